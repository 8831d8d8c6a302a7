"""The runner's contract: ordered stages, one finish per turn however it ends, failover only
before the first byte."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from contextlib import aclosing

import pytest

from mamori.domain.audit import TurnStatus
from mamori.domain.chat import (
    ChatMessage,
    ContentDelta,
    Done,
    ErrorEvent,
    ReasoningDelta,
    StreamEvent,
    UpstreamRequest,
    Usage,
)
from mamori.domain.classification import Classification
from mamori.domain.endpoint import Endpoint, ModelInfo, Residency
from mamori.domain.principal import Face, Principal, Role
from mamori.errors import UpstreamProtocolError, UpstreamStatusError, UpstreamUnavailableError
from mamori.gateway.registry import EndpointRegistry
from mamori.pipeline.runner import ChatPipeline
from mamori.pipeline.stages.classify import ClassifyStage
from mamori.pipeline.stages.guard import InboundGuardStage, OutboundGuardStage
from mamori.pipeline.stages.route import RouteStage
from mamori.pipeline.stages.stream import GatewayStreamStage
from mamori.pipeline.turn import ChatTurn
from mamori.policy.sovereignty_file import load_default_policy

PRINCIPAL = Principal("u1", "alice", frozenset({Role.USER}), Face.API)
POLICY = load_default_policy()


class ScriptedBackend:
    """Yields a fixed list of events, raising an exception where the script says so."""

    def __init__(self, endpoint: Endpoint, script: list[StreamEvent | Exception]) -> None:
        self.endpoint = endpoint
        self.script = script
        self.requests: list[UpstreamRequest] = []
        self.closed = False
        self.streams_closed = 0

    async def stream(self, request: UpstreamRequest) -> AsyncGenerator[StreamEvent, None]:
        self.requests.append(request)
        try:
            for item in self.script:
                await asyncio.sleep(0)
                if isinstance(item, Exception):
                    raise item
                yield item
        finally:
            self.streams_closed += 1

    async def list_models(self) -> list[str]:
        return list(self.endpoint.models)

    async def aclose(self) -> None:
        self.closed = True


class Recorder:
    name = "recorder"

    def __init__(self) -> None:
        self.finished: list[ChatTurn] = []
        self.backends: dict[str, ScriptedBackend] = {}
        # How many engine streams were already closed when each turn was finished.
        self.streams_closed_at_finish: list[int] = []

    async def finish(self, turn: ChatTurn) -> None:
        self.finished.append(turn)
        self.streams_closed_at_finish.append(sum(b.streams_closed for b in self.backends.values()))


def endpoint(name: str) -> Endpoint:
    return Endpoint(name, f"http://{name}/v1", "vllm", Residency.ONPREM, {"m": f"{name}-m"})


async def make_pipeline(
    scripts: dict[str, list[StreamEvent | Exception]],
    models: dict[str, ModelInfo] | None = None,
) -> tuple[ChatPipeline, Recorder, dict[str, ScriptedBackend]]:
    backends: dict[str, ScriptedBackend] = {}

    def factory(ep: Endpoint) -> ScriptedBackend:
        backends[ep.name] = ScriptedBackend(ep, scripts[ep.name])
        return backends[ep.name]

    registry = EndpointRegistry(factory)
    await registry.replace([endpoint(n) for n in scripts], models or {})
    recorder = Recorder()
    recorder.backends = backends
    pipeline = ChatPipeline(
        prepare=[
            InboundGuardStage(),
            ClassifyStage(POLICY, Classification.C1),
            RouteStage(registry, POLICY),
        ],
        source=GatewayStreamStage(registry),
        on_event=[OutboundGuardStage()],
        finish=[recorder],
    )
    return pipeline, recorder, backends


def new_turn(model: str = "m") -> ChatTurn:
    return ChatTurn(principal=PRINCIPAL, model=model, messages=[ChatMessage("user", "hi")])


async def collect(pipeline: ChatPipeline, turn: ChatTurn) -> list[StreamEvent]:
    return [event async for event in pipeline.run(turn)]


async def test_events_flow_through_and_turn_is_recorded_once() -> None:
    script: list[StreamEvent | Exception] = [
        ReasoningDelta("think"),
        ContentDelta("Hel"),
        ContentDelta("lo"),
        Usage(3, 2),
        Done(),
    ]
    pipeline, recorder, backends = await make_pipeline({"a": script})
    turn = new_turn()
    events = await collect(pipeline, turn)
    assert events == script
    assert [t.id for t in recorder.finished] == [turn.id]
    assert turn.status is TurnStatus.OK
    assert (turn.answer, turn.reasoning) == ("Hello", "think")
    assert turn.endpoint is not None and turn.endpoint.name == "a"
    assert backends["a"].requests[0].upstream_model == "a-m"
    assert turn.ttft_ms is not None and turn.latency_ms >= turn.ttft_ms


async def test_the_models_context_length_goes_to_the_engine() -> None:
    info = ModelInfo(name="m", display_name="m", endpoints=("a",), context_length=8192)
    pipeline, _, backends = await make_pipeline({"a": [Done()]}, {"m": info})
    await collect(pipeline, new_turn())
    assert backends["a"].requests[0].context_length == 8192
    pipeline, _, backends = await make_pipeline({"a": [Done()]})
    await collect(pipeline, new_turn())
    assert backends["a"].requests[0].context_length is None


async def test_unknown_model_is_an_error_event_and_still_recorded() -> None:
    pipeline, recorder, _ = await make_pipeline({"a": [Done()]})
    turn = new_turn(model="nope")
    events = await collect(pipeline, turn)
    assert len(events) == 1 and isinstance(events[0], ErrorEvent)
    assert events[0].code == "model_not_found" and events[0].before_first_byte
    assert recorder.finished == [turn]
    assert turn.decisions[-1].action == "deny"


async def test_failover_before_first_byte_uses_next_endpoint() -> None:
    pipeline, _, backends = await make_pipeline(
        {
            "a": [UpstreamUnavailableError("connection refused")],
            "b": [ContentDelta("ok"), Done()],
        }
    )
    turn = new_turn()
    events = await collect(pipeline, turn)
    assert events == [ContentDelta("ok"), Done()]
    assert turn.endpoint is not None and turn.endpoint.name == "b"
    assert any(d.action == "failover" for d in turn.decisions)
    assert len(backends["a"].requests) == 1 and len(backends["b"].requests) == 1


async def test_client_errors_do_not_fail_over() -> None:
    pipeline, _, backends = await make_pipeline(
        {"a": [UpstreamStatusError("bad", status=400)], "b": [Done()]}
    )
    events = await collect(pipeline, new_turn())
    assert isinstance(events[-1], ErrorEvent) and events[-1].code == "engine_http_error"
    assert backends["b"].requests == []


async def test_mid_stream_failure_is_incomplete_and_never_spliced() -> None:
    pipeline, recorder, backends = await make_pipeline(
        {"a": [ContentDelta("part"), UpstreamProtocolError("hung up")], "b": [ContentDelta("x")]}
    )
    turn = new_turn()
    events = await collect(pipeline, turn)
    assert events[0] == ContentDelta("part")
    assert isinstance(events[-1], ErrorEvent) and not events[-1].before_first_byte
    assert turn.status is TurnStatus.INCOMPLETE and turn.answer == "part"
    assert backends["b"].requests == []
    assert recorder.finished == [turn]


async def test_cancelled_turn_is_still_finished() -> None:
    slow: list[StreamEvent | Exception] = [ContentDelta(str(i)) for i in range(10_000)]
    pipeline, recorder, backends = await make_pipeline({"a": slow})
    turn = new_turn()

    async def consume() -> None:
        async with aclosing(pipeline.run(turn)) as events:
            async for event in events:
                if event == ContentDelta("3"):
                    await asyncio.sleep(10)

    task = asyncio.create_task(consume())
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert turn.status is TurnStatus.CANCELLED
    assert recorder.finished == [turn]
    assert turn.answer == "0123"
    # The engine's stream was closed before the turn was saved, not left to the collector.
    assert backends["a"].streams_closed == 1
    assert recorder.streams_closed_at_finish == [1]


async def test_reasoning_of_finished_turns_is_not_sent_back() -> None:
    pipeline, _, backends = await make_pipeline({"a": [Done()]})
    turn = ChatTurn(
        principal=PRINCIPAL,
        model="m",
        messages=[
            ChatMessage("user", "q1"),
            ChatMessage("assistant", "a1", reasoning="secret chain of thought"),
            ChatMessage("user", "q2"),
        ],
    )
    await collect(pipeline, turn)
    sent = backends["a"].requests[0].messages
    assert [m.content for m in sent] == ["q1", "a1", "q2"]
    assert all(m.reasoning is None for m in sent)
