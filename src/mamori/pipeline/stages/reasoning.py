"""policy.reasoning: the effort a turn may use and what its asker may see of the reasoning.

``ReasoningPolicyStage`` (prepare) decides both from the asker's groups, the model and the
installation defaults, and puts back the stored chain of thought of an API tool loop whose
client was never shown it. ``ReasoningDisplayStage`` (per event) then replaces reasoning text the
asker may not see with progress (how long, how much) and, for the summary display, a summary.
The raw text is accumulated by the runner before this stage sees an event, so it is stored
whatever the display.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass, field

from mamori.domain.chat import (
    ChatMessage,
    Done,
    ReasoningDelta,
    ReasoningEffort,
    ReasoningProgress,
    ReasoningSummary,
    StreamEvent,
)
from mamori.domain.classification import Classification
from mamori.domain.principal import Face
from mamori.domain.reasoning import ReasoningDisplay
from mamori.domain.sovereignty import DataClass
from mamori.gateway.registry import EndpointRegistry
from mamori.pipeline.summarise import SummaryWriter
from mamori.pipeline.turn import ChatTurn, ThinkingState
from mamori.policy.reasoning import decide_display, decide_effort
from mamori.store.database import Database
from mamori.store.repos import reasoning_store

log = logging.getLogger(__name__)

STAGE = "policy.reasoning"
# Progress while the model thinks: often enough to look alive, rarely enough to cost nothing.
PROGRESS_EVERY_SECONDS = 0.5
# How long the end of a turn waits for a summary still being written.
SUMMARY_WAIT_SECONDS = 20.0


class ReasoningPolicyStage:
    name = STAGE

    def __init__(
        self,
        registry: EndpointRegistry,
        db: Database,
        *,
        default_display: ReasoningDisplay,
        installation_cap: ReasoningEffort | None,
        summariser: SummaryWriter | None,
    ) -> None:
        self.registry = registry
        self.db = db
        self.default_display = default_display
        self.installation_cap = installation_cap
        self.summariser = summariser

    async def prepare(self, turn: ChatTurn) -> None:
        model = self.registry.model(turn.model)
        display = decide_display(
            turn.principal,
            model,
            self.default_display,
            summariser_available=self.summariser is not None,
        )
        turn.reasoning_display = display.display
        turn.decide(STAGE, display.display.value, display.rule_id)
        effort = decide_effort(turn.principal, model, turn.reasoning_effort, self.installation_cap)
        turn.reasoning_effort = effort.effort
        turn.decide(
            STAGE,
            "cap-effort" if effort.capped else "allow-effort",
            effort.rule_id,
            requested=effort.requested or "",
            used=effort.effort or "engine-default",
        )
        if turn.principal.face is Face.API:
            await self._restore_tool_loop_reasoning(turn)

    async def _restore_tool_loop_reasoning(self, turn: ChatTurn) -> None:
        """A client shown no raw reasoning cannot send it back; the engine still needs it until
        the tool loop's final answer, so it comes from where the earlier turn stored it."""
        call_ids = [
            m.tool_calls[0].id
            for m in turn.messages
            if m.role == "assistant" and m.tool_calls and m.tool_calls[0].id
        ]
        if not call_ids:
            return
        user_id = turn.principal.user_id
        stored, classes = await self.db.read(
            lambda c: (
                reasoning_store.reasoning_for_calls(c, user_id, call_ids),
                reasoning_store.classes_of_calls(c, user_id, call_ids),
            )
        )
        for level, special in classes:
            turn.inherited = turn.inherited | DataClass(Classification(level), special)
        if stored:
            turn.messages = [_with_stored_reasoning(m, stored) for m in turn.messages]


def _with_stored_reasoning(message: ChatMessage, stored: dict[str, str]) -> ChatMessage:
    if message.role != "assistant" or not message.tool_calls:
        return message
    reasoning = stored.get(message.tool_calls[0].id)
    if reasoning is None:
        return message
    return dataclasses.replace(message, reasoning=reasoning)


@dataclass(slots=True)
class _Thinking(ThinkingState):
    started: float
    last_progress: float
    tokens: int = 0
    finished: bool = False
    summary: asyncio.Task[str | None] | None = field(default=None)
    # The end of the answer, held back while its summary is still being written: Done is
    # always the last event a face sees.
    held_done: Done | None = None


class ReasoningDisplayStage:
    name = "policy.reasoning.display"

    def __init__(self, summariser: SummaryWriter | None) -> None:
        self.summariser = summariser

    def on_event(self, turn: ChatTurn, event: StreamEvent) -> Iterable[StreamEvent]:
        # No cast(): this runs for every streamed event, and cast is a call.
        thinking: _Thinking | None = turn.thinking  # type: ignore[assignment]
        if type(event) is ReasoningDelta:
            now = time.perf_counter()
            if thinking is None:
                thinking = turn.thinking = _Thinking(started=now, last_progress=0.0)
            thinking.tokens += 1
            if turn.reasoning_display is ReasoningDisplay.RAW:
                return (event,)
            if now - thinking.last_progress < PROGRESS_EVERY_SECONDS:
                return ()
            thinking.last_progress = now
            return (ReasoningProgress(_ms(now - thinking.started), thinking.tokens, done=False),)
        if thinking is None or (thinking.finished and thinking.summary is None):
            return (event,)
        out: list[StreamEvent] = []
        if not thinking.finished:
            out.extend(self._finish_thinking(turn, thinking))
        if thinking.summary is not None and thinking.summary.done():
            out.extend(_summary_events(turn, thinking))
        if type(event) is Done and thinking.summary is not None:
            thinking.held_done = event
        else:
            out.append(event)
        return out

    async def on_end(self, turn: ChatTurn) -> list[StreamEvent]:
        thinking = turn.thinking
        if not isinstance(thinking, _Thinking):
            return []
        out: list[StreamEvent] = []
        if not thinking.finished:
            out.extend(self._finish_thinking(turn, thinking))
        if thinking.summary is not None:
            try:
                await asyncio.wait_for(asyncio.shield(thinking.summary), SUMMARY_WAIT_SECONDS)
            except TimeoutError:
                thinking.summary.cancel()
                thinking.summary = None
                turn.decide(STAGE, "skip-summary", "reasoning.summary-timeout")
            except Exception:  # noqa: S110 - reported by _summary_events from the task itself
                pass
            out.extend(_summary_events(turn, thinking))
        if thinking.held_done is not None:
            out.append(thinking.held_done)
        return out

    def _finish_thinking(self, turn: ChatTurn, thinking: _Thinking) -> list[StreamEvent]:
        thinking.finished = True
        turn.reasoning_ms = _ms(time.perf_counter() - thinking.started)
        turn.reasoning_tokens = thinking.tokens
        if turn.reasoning_display is ReasoningDisplay.SUMMARY and self.summariser is not None:
            thinking.summary = asyncio.get_running_loop().create_task(
                self.summariser.summarise(turn)
            )
        if turn.reasoning_display is ReasoningDisplay.RAW:
            return []
        return [ReasoningProgress(turn.reasoning_ms, thinking.tokens, done=True)]


def _summary_events(turn: ChatTurn, thinking: _Thinking) -> list[StreamEvent]:
    task, thinking.summary = thinking.summary, None
    if task is None or task.cancelled():
        return []
    if task.exception() is not None:
        log.warning("reasoning summary failed: %r", task.exception(), extra={"turn_id": turn.id})
        turn.decide(STAGE, "skip-summary", "reasoning.summary-failed")
        return []
    text = task.result()
    if not text:
        return []
    turn.reasoning_summary = text
    return [ReasoningSummary(text)]


def _ms(seconds: float) -> int:
    return int(seconds * 1000)
