"""The reasoning display stage on its own: progress instead of text, summaries, and Done last."""

from __future__ import annotations

import asyncio

import pytest

from mamori.domain.chat import (
    ChatMessage,
    ContentDelta,
    Done,
    ReasoningDelta,
    ReasoningProgress,
    ReasoningSummary,
    StreamEvent,
)
from mamori.domain.principal import Face, Principal, Role
from mamori.domain.reasoning import ReasoningDisplay
from mamori.pipeline.stages import reasoning as stage_module
from mamori.pipeline.stages.reasoning import ReasoningDisplayStage
from mamori.pipeline.turn import ChatTurn

PRINCIPAL = Principal("u1", "alice", frozenset({Role.USER}), Face.UI)


class SlowSummaries:
    def __init__(self, delay: float, text: str = "要約") -> None:
        self.delay = delay
        self.text = text
        self.seen: list[str] = []

    async def summarise(self, turn: ChatTurn) -> str | None:
        self.seen.append(turn.reasoning)
        await asyncio.sleep(self.delay)
        return self.text


def new_turn(display: ReasoningDisplay) -> ChatTurn:
    turn = ChatTurn(PRINCIPAL, "m", [ChatMessage(role="user", content="q")])
    turn.reasoning_display = display
    return turn


async def run(
    stage: ReasoningDisplayStage, turn: ChatTurn, source: list[StreamEvent]
) -> list[StreamEvent]:
    out: list[StreamEvent] = []
    for event in source:
        turn.record(event)  # as the runner does, before the stage
        out.extend(stage.on_event(turn, event))
        await asyncio.sleep(0)
    out.extend(await stage.on_end(turn))
    return out


SOURCE: list[StreamEvent] = [
    ReasoningDelta("a"),
    ReasoningDelta("b"),
    ReasoningDelta("c"),
    ContentDelta("答え"),
    Done(),
]


async def test_hidden_gives_progress_and_keeps_the_text_on_the_turn() -> None:
    turn = new_turn(ReasoningDisplay.HIDDEN)
    out = await run(ReasoningDisplayStage(None), turn, SOURCE)
    assert not any(isinstance(e, ReasoningDelta) for e in out)
    progress = [e for e in out if isinstance(e, ReasoningProgress)]
    # The first delta shows at once; the next two fall inside the throttle window.
    assert [(p.tokens, p.done) for p in progress] == [(1, False), (3, True)]
    assert out[-2:] == [ContentDelta("答え"), Done()]
    assert turn.reasoning == "abc" and turn.reasoning_tokens == 3
    assert turn.reasoning_ms is not None


async def test_raw_passes_reasoning_through_untouched() -> None:
    turn = new_turn(ReasoningDisplay.RAW)
    out = await run(ReasoningDisplayStage(None), turn, SOURCE)
    assert out == SOURCE
    assert turn.reasoning_tokens == 3


async def test_a_slow_summary_holds_done_back_until_it_is_written() -> None:
    turn = new_turn(ReasoningDisplay.SUMMARY)
    summaries = SlowSummaries(delay=0.05)
    out = await run(ReasoningDisplayStage(summaries), turn, SOURCE)
    assert summaries.seen == ["abc"]  # the summariser saw the whole reasoning
    assert out[-3:] == [ContentDelta("答え"), ReasoningSummary("要約"), Done()]
    assert turn.reasoning_summary == "要約"


async def test_a_summary_that_never_comes_is_given_up(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(stage_module, "SUMMARY_WAIT_SECONDS", 0.01)
    turn = new_turn(ReasoningDisplay.SUMMARY)
    out = await run(ReasoningDisplayStage(SlowSummaries(delay=5)), turn, SOURCE)
    assert out[-1] == Done() and not any(isinstance(e, ReasoningSummary) for e in out)
    assert turn.reasoning_summary is None
    assert any(d.rule_id == "reasoning.summary-timeout" for d in turn.decisions)


async def test_no_reasoning_means_no_progress_and_no_summary() -> None:
    turn = new_turn(ReasoningDisplay.SUMMARY)
    summaries = SlowSummaries(delay=0)
    out = await run(ReasoningDisplayStage(summaries), turn, [ContentDelta("x"), Done()])
    assert out == [ContentDelta("x"), Done()] and summaries.seen == []
