"""Several real loopback engines behind one model: load follows in-flight counts, and an engine
that keeps failing is ejected by its circuit breaker and later readmitted."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp
import pytest

from mamori.domain.chat import ChatMessage, Done, ErrorEvent, StreamEvent
from mamori.domain.endpoint import Endpoint, Residency
from mamori.domain.principal import Face, Principal, Role
from mamori.gateway.breaker import BreakerPolicy, CircuitState
from mamori.gateway.openai_compat import backend_factory, make_http_client
from mamori.gateway.registry import EndpointRegistry
from mamori.pipeline.runner import ChatPipeline
from mamori.pipeline.stages.route import RouteStage
from mamori.pipeline.stages.stream import GatewayStreamStage
from mamori.pipeline.turn import ChatTurn
from mamori.policy.sovereignty_file import load_default_policy
from tests.support.fake_upstream import FakeUpstream, Script

MODEL = "gpt-oss-120b"
PRINCIPAL = Principal("u1", "alice", frozenset({Role.USER}), Face.API)


@dataclass
class Clock:
    now: float = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Farm:
    engines: dict[str, FakeUpstream]
    registry: EndpointRegistry
    pipeline: ChatPipeline
    clock: Clock

    async def turn(self) -> tuple[ChatTurn, list[StreamEvent]]:
        turn = ChatTurn(principal=PRINCIPAL, model=MODEL, messages=[ChatMessage("user", "hi")])
        return turn, [event async for event in self.pipeline.run(turn)]

    def chats(self, name: str) -> int:
        return sum(1 for r in self.engines[name].requests if r.path.endswith("/completions"))


@pytest.fixture
async def client() -> AsyncIterator[aiohttp.ClientSession]:
    http = make_http_client(connect_timeout=1.0)
    yield http
    await http.close()


async def farm(client: aiohttp.ClientSession, scripts: dict[str, Script]) -> Farm:
    engines = {name: FakeUpstream(script) for name, script in scripts.items()}
    for engine in engines.values():
        await engine.start()
    clock = Clock()
    registry = EndpointRegistry(
        backend_factory(client, first_byte_timeout=0.5, idle_timeout=0.5),
        breaker_policy=BreakerPolicy(failure_threshold=3, cooldown=30.0),
        clock=clock,
    )
    await registry.replace(
        [
            Endpoint(n, e.base_url, "vllm", Residency.ONPREM, {MODEL: MODEL})
            for n, e in engines.items()
        ],
        {},
    )
    pipeline = ChatPipeline(
        prepare=[RouteStage(registry, load_default_policy())],
        source=GatewayStreamStage(registry),
        on_event=[],
        finish=[],
    )
    return Farm(engines, registry, pipeline, clock)


@pytest.fixture
async def cleanup() -> AsyncIterator[list[Farm]]:
    farms: list[Farm] = []
    yield farms
    for f in farms:
        await f.registry.aclose()
        for engine in f.engines.values():
            await engine.stop()


async def test_concurrent_turns_spread_by_in_flight_count(
    client: aiohttp.ClientSession, cleanup: list[Farm]
) -> None:
    slow = Script(content=4, delay=0.05)
    f = await farm(client, {"a": slow, "b": slow, "c": slow})
    cleanup.append(f)
    results = await asyncio.gather(*(f.turn() for _ in range(6)))
    assert all(isinstance(events[-1], Done) for _, events in results)
    assert [f.chats(n) for n in "abc"] == [2, 2, 2]
    assert [f.registry.in_flight(n) for n in "abc"] == [0, 0, 0]


async def test_a_failing_engine_is_ejected_then_readmitted_after_the_cooldown(
    client: aiohttp.ClientSession, cleanup: list[Farm]
) -> None:
    f = await farm(client, {"a": Script(status=503), "b": Script()})
    cleanup.append(f)
    for _ in range(3):  # a is tried first (fewest in flight, listed first) and fails over
        turn, events = await f.turn()
        assert isinstance(events[-1], Done) and turn.endpoint is not None
        assert turn.endpoint.name == "b"
    assert f.registry.status()[0].circuit is CircuitState.OPEN

    turn, events = await f.turn()  # ejected: a is not even asked
    assert f.chats("a") == 3 and isinstance(events[-1], Done)
    assert turn.decisions[0].detail["ejected"] == "a"

    f.engines["a"].script = Script()  # the engine recovers
    f.clock.now += 30
    assert f.registry.status()[0].circuit is CircuitState.HALF_OPEN
    turn, _ = await f.turn()  # the one trial request
    assert turn.endpoint is not None and turn.endpoint.name == "a"
    assert f.registry.status()[0].circuit is CircuitState.CLOSED
    await f.turn()
    assert f.chats("a") == 5


async def test_client_errors_do_not_count_against_the_engine(
    client: aiohttp.ClientSession, cleanup: list[Farm]
) -> None:
    bad_request = Script(status=400, status_body=b'{"error":{"message":"bad"}}')
    f = await farm(client, {"a": bad_request})
    cleanup.append(f)
    for _ in range(4):
        _, events = await f.turn()
        assert isinstance(events[-1], ErrorEvent)
    [status] = f.registry.status()
    assert status.circuit is CircuitState.CLOSED and status.failures_total == 0


async def test_first_byte_timeouts_trip_the_breaker_and_the_last_resort_is_still_tried(
    client: aiohttp.ClientSession, cleanup: list[Farm]
) -> None:
    f = await farm(client, {"a": Script(hang_before_headers=True)})
    cleanup.append(f)
    for _ in range(4):
        _, events = await f.turn()
        assert isinstance(events[-1], ErrorEvent) and events[-1].code == "engine_timeout"
    [status] = f.registry.status()
    assert status.circuit is CircuitState.OPEN and status.failures_total == 4
    # Every endpoint of the model is open: it is tried anyway rather than refused.
    assert f.chats("a") == 4


async def test_a_trial_abandoned_by_its_client_lets_the_next_turn_try(
    client: aiohttp.ClientSession, cleanup: list[Farm]
) -> None:
    f = await farm(client, {"a": Script(status=503), "b": Script()})
    cleanup.append(f)
    for _ in range(3):
        await f.turn()
    f.engines["a"].script = Script(content=50, delay=0.02)
    f.clock.now += 30
    turn = ChatTurn(principal=PRINCIPAL, model=MODEL, messages=[ChatMessage("user", "hi")])
    run = f.pipeline.run(turn)
    await anext(run)  # the trial is streaming from a
    assert turn.endpoint is not None and turn.endpoint.name == "a"
    assert not f.registry.is_healthy("a")  # no second trial meanwhile
    await run.aclose()  # the client goes away
    assert f.registry.status()[0].circuit is CircuitState.HALF_OPEN
    assert f.registry.is_healthy("a") and f.registry.in_flight("a") == 0
