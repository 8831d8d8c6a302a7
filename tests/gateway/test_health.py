"""The background health-check loop."""

from __future__ import annotations

import asyncio

from mamori.domain.endpoint import Endpoint, Residency
from mamori.gateway.breaker import BreakerPolicy, CircuitState
from mamori.gateway.health import keep_probing
from mamori.gateway.openai_compat import backend_factory, make_http_client
from mamori.gateway.registry import EndpointRegistry
from tests.support.fake_upstream import FakeUpstream


async def test_probes_every_endpoint_each_round_and_trips_the_dead_one() -> None:
    client = make_http_client(connect_timeout=1.0)
    registry = EndpointRegistry(
        backend_factory(client, first_byte_timeout=1.0, idle_timeout=1.0),
        breaker_policy=BreakerPolicy(failure_threshold=2),
    )
    async with FakeUpstream() as fake:
        await registry.replace(
            [
                Endpoint("gpu1", fake.base_url, "vllm", Residency.ONPREM, {"m": "gpt-oss-120b"}),
                Endpoint("dead", "http://127.0.0.1:9/v1", "vllm", Residency.ONPREM, {"m": "m"}),
            ],
            {},
        )
        task = asyncio.create_task(keep_probing(registry, interval=0.05, timeout=1.0))
        try:
            await fake.wait_for(lambda: len(fake.requests) >= 3)
        finally:
            task.cancel()
            await asyncio.gather(task, return_exceptions=True)
    assert all(r.path.endswith("/models") for r in fake.requests)
    status = {s.name: s for s in registry.status()}
    assert status["gpu1"].up and status["gpu1"].circuit is CircuitState.CLOSED
    assert status["dead"].circuit is CircuitState.OPEN and status["dead"].failures_total >= 2
    assert status["dead"].last_probe is not None
    assert status["dead"].last_probe.error == "engine_unavailable"
    await registry.aclose()
    await client.close()
