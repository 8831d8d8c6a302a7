"""EndpointRegistry's active probes against real loopback engines: what they record, how they
feed the circuit breaker, and that a hung engine is never asked twice at once."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import aiohttp
import pytest

from mamori.domain.endpoint import Endpoint, Residency
from mamori.gateway.breaker import BreakerPolicy, CircuitState
from mamori.gateway.openai_compat import backend_factory, make_http_client
from mamori.gateway.registry import EndpointRegistry
from tests.support.fake_upstream import FakeUpstream

DEAD_URL = "http://127.0.0.1:9/v1"  # nothing listens on the discard port


@dataclass
class Clock:
    now: float = 1000.0

    def __call__(self) -> float:
        return self.now


def endpoint(name: str, url: str, models: dict[str, str] | None = None) -> Endpoint:
    return Endpoint(name, url, "vllm", Residency.ONPREM, models or {"gpt-oss-120b": "gpt-oss-120b"})


@pytest.fixture
async def client() -> AsyncIterator[aiohttp.ClientSession]:
    http = make_http_client(connect_timeout=1.0)
    yield http
    await http.close()


@pytest.fixture
def make_registry(
    client: aiohttp.ClientSession,
) -> Callable[..., EndpointRegistry]:
    def make(clock: Clock | None = None, threshold: int = 2) -> EndpointRegistry:
        return EndpointRegistry(
            backend_factory(client, first_byte_timeout=2.0, idle_timeout=2.0),
            breaker_policy=BreakerPolicy(failure_threshold=threshold, cooldown=30.0),
            clock=clock or Clock(),
        )

    return make


def models_requests(fake: FakeUpstream) -> int:
    return sum(1 for r in fake.requests if r.path.endswith("/models"))


async def test_a_probe_records_latency_listed_models_and_what_is_missing(
    make_registry: Callable[..., EndpointRegistry],
) -> None:
    registry = make_registry()
    async with FakeUpstream(models=("gpt-oss-120b", "other")) as fake:
        mapping = {"gpt-oss-120b": "gpt-oss-120b", "small": "gpt-oss-20b"}
        await registry.replace([endpoint("gpu1", fake.base_url, mapping)], {})
        [health] = await registry.probe_all(timeout=2.0)
    assert health.reachable and health.error is None
    assert health.models == ["gpt-oss-120b", "other"]
    assert health.missing == ("gpt-oss-20b",)
    assert health.latency is not None and 0 < health.latency < 2.0
    [status] = registry.status()
    assert status.up and status.last_probe == health
    await registry.aclose()


async def test_failed_probes_open_the_circuit_and_a_good_one_half_opens_it(
    make_registry: Callable[..., EndpointRegistry],
) -> None:
    clock = Clock()
    registry = make_registry(clock)
    fake = FakeUpstream()
    await fake.start()
    port = int(fake.base_url.rsplit(":", 1)[1].split("/")[0])
    await registry.replace([endpoint("gpu1", fake.base_url)], {})
    await fake.stop()  # the engine goes down
    for _ in range(2):
        health = await registry.probe("gpu1", timeout=1.0)
        assert not health.reachable and health.error == "engine_unavailable"
    [status] = registry.status()
    assert status.circuit is CircuitState.OPEN and not status.up
    assert status.failures_total == 2 and status.last_error == "engine_unavailable"
    assert not registry.is_healthy("gpu1")

    await fake.start(port=port)  # and comes back, long before the cooldown ends
    try:
        assert (await registry.probe("gpu1", timeout=1.0)).reachable
        assert registry.status()[0].circuit is CircuitState.HALF_OPEN
        assert registry.is_healthy("gpu1")
        await registry.probe("gpu1", timeout=1.0)
        assert registry.status()[0].circuit is CircuitState.CLOSED
    finally:
        await fake.stop()
        await registry.aclose()


async def test_a_hung_engine_gets_one_probe_at_a_time(
    make_registry: Callable[..., EndpointRegistry],
) -> None:
    accepted = 0

    async def never_answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal accepted
        accepted += 1
        await reader.read()  # until the client hangs up
        writer.close()

    server = await asyncio.start_server(never_answer, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    registry = make_registry()
    await registry.replace([endpoint("slow", f"http://127.0.0.1:{port}/v1")], {})
    try:
        results = await asyncio.gather(
            registry.probe("slow", timeout=0.3),
            registry.probe("slow", timeout=0.3),
            registry.probe_all(timeout=0.3),
        )
    finally:
        await registry.aclose()
        server.close()
        await server.wait_closed()
    assert accepted == 1
    assert results[0].error == "engine_timeout" and results[0] is results[1]
    assert results[2] == [results[0]]


async def test_health_reuses_fresh_probes_and_refreshes_stale_ones(
    make_registry: Callable[..., EndpointRegistry],
) -> None:
    clock = Clock()
    registry = make_registry(clock)
    async with FakeUpstream() as fake:
        await registry.replace([endpoint("gpu1", fake.base_url), endpoint("dead", DEAD_URL)], {})
        first = await registry.health(timeout=1.0, max_age=10.0)
        assert models_requests(fake) == 1
        clock.now += 5
        assert await registry.health(timeout=1.0, max_age=10.0) == first
        assert models_requests(fake) == 1
        clock.now += 10
        again = await registry.health(timeout=1.0, max_age=10.0)
        assert models_requests(fake) == 2
    assert [(h.name, h.reachable) for h in again] == [("gpu1", True), ("dead", False)]
    await registry.aclose()


async def test_a_lease_is_only_for_the_endpoint_the_route_was_planned_on(
    make_registry: Callable[..., EndpointRegistry],
) -> None:
    registry = make_registry()
    planned = endpoint("gpu1", "http://10.0.0.5:8000/v1")
    await registry.replace([planned], {})
    lease = registry.lease(planned)
    assert lease is not None
    registry.release(lease)
    # The operator re-points the name at a foreign service between planning and streaming.
    moved = Endpoint(
        "gpu1", "https://api.example.com/v1", "openai", Residency.FOREIGN, planned.models
    )
    await registry.replace([moved], {})
    assert registry.lease(planned) is None
    assert registry.lease(moved) is not None
    await registry.aclose()
