"""guard.output: links and images in the answer that would carry data to other hosts.

Runs on every streamed event, right after guard.outbound, for both faces: the workspace
sanitises Markdown in the browser too, but /v1 clients render answers with whatever they have,
so the server is where the defence must hold. Answer text, and reasoning text when the asker sees
it raw, pass through a ``LinkGuard`` each; what they hold back is released before the end of the
answer (Done, a tool call) so it never arrives after it.

Each distinct neutralised URL (kind, host, why) becomes one decision of the turn, so the audit
record names it. When anything was neutralised, the stored answer is the neutralised one, the
text the person saw: reopening the conversation must not bring the URL back.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from mamori.domain.chat import (
    ContentDelta,
    Done,
    ErrorEvent,
    ReasoningDelta,
    StreamEvent,
    ToolCallDelta,
)
from mamori.domain.reasoning import ReasoningDisplay
from mamori.guard.output.canary import CanaryWatch
from mamori.guard.output.links import LinkGuard, Removal
from mamori.guard.output.urls import HostPolicy, Reason
from mamori.pipeline.turn import ChatTurn

STAGE = "guard.output"
RULE_EXTERNAL = "guard.output.external-link"
RULE_UNSAFE = "guard.output.unsafe-url"
RULE_CANARY = "guard.output.canary"  # javascript:, data:, a relative image, active HTML
# Events after which no held text may arrive: the answer ended, or turned into a tool call.
_RELEASING = frozenset({Done, ErrorEvent, ToolCallDelta})


@dataclass(slots=True)
class _OutputState:
    answer: LinkGuard
    reasoning: LinkGuard | None
    # What the answer guard let through, kept to store the answer as it was shown.
    shown: list[str] = field(default_factory=list)
    reported: set[tuple[str, str, str, str]] = field(default_factory=set)
    answer_removed: int = 0
    reasoning_removed: int = 0
    # The turn's system-prompt canary, when it has one (see guard.transform).
    canary: CanaryWatch | None = None
    canary_reported: bool = False


class OutputChecksStage:
    name = STAGE

    def __init__(self, link_allowlist: Sequence[str] = ()) -> None:
        # Normalised once: every turn shares it.
        self.policy = HostPolicy(link_allowlist)

    def on_event(self, turn: ChatTurn, event: StreamEvent) -> Iterable[StreamEvent]:
        kind = type(event)
        if kind is ContentDelta or kind is ReasoningDelta:
            return self._text(turn, event)  # type: ignore[arg-type]
        state: _OutputState | None = turn.output_state  # type: ignore[assignment]
        if state is None or kind not in _RELEASING:
            return (event,)
        # The end of the answer (or a tool call): nothing held may come after it.
        return [*self._release(turn, state), event]

    async def on_end(self, turn: ChatTurn) -> list[StreamEvent]:
        state = turn.output_state
        if not isinstance(state, _OutputState):
            return []
        out = self._release(turn, state)
        if state.answer_removed or (state.canary is not None and state.canary.seen):
            # Stored as shown; the decisions say what was taken out and from where.
            turn.answer_parts[:] = ["".join(state.shown)]
        return out

    def _text(self, turn: ChatTurn, event: ContentDelta | ReasoningDelta) -> list[StreamEvent]:
        state: _OutputState | None = turn.output_state  # type: ignore[assignment]
        if state is None:
            state = turn.output_state = self._new_state(turn)
        out: list[StreamEvent] = []
        if type(event) is ContentDelta:
            if state.reasoning is not None and state.reasoning.holding:
                # Reasoning is over once the answer starts: its tail goes first.
                out.extend(self._flush_reasoning(turn, state))
            text = state.answer.feed(event.text)
            if state.canary is not None:
                text = state.canary.feed(text)
            state.shown.append(text)
            self._report(turn, state)
            if text is event.text:
                out.append(event)
            elif text:
                out.append(ContentDelta(text))
            return out
        if state.reasoning is None:
            return [event]  # not shown as text to this asker: nothing to neutralise
        text = state.reasoning.feed(event.text)
        self._report(turn, state)
        if text is event.text:
            return [event]
        return [ReasoningDelta(text)] if text else []

    def _new_state(self, turn: ChatTurn) -> _OutputState:
        locale = turn.principal.locale
        raw = turn.reasoning_display is ReasoningDisplay.RAW
        return _OutputState(
            answer=LinkGuard(self.policy, locale),
            reasoning=LinkGuard(self.policy, locale) if raw else None,
            canary=CanaryWatch(turn.canary, locale) if turn.canary else None,
        )

    def _release(self, turn: ChatTurn, state: _OutputState) -> list[StreamEvent]:
        out = self._flush_reasoning(turn, state)
        text = state.answer.flush() if state.answer.holding else ""
        if state.canary is not None:
            text = state.canary.feed(text) + state.canary.flush()
        if text:
            state.shown.append(text)
            out.append(ContentDelta(text))
        self._report(turn, state)
        return out

    def _flush_reasoning(self, turn: ChatTurn, state: _OutputState) -> list[StreamEvent]:
        if state.reasoning is None or not state.reasoning.holding:
            return []
        text = state.reasoning.flush()
        self._report(turn, state)
        return [ReasoningDelta(text)] if text else []

    def _report(self, turn: ChatTurn, state: _OutputState) -> None:
        if state.canary is not None and state.canary.seen and not state.canary_reported:
            # The model repeated its hidden instructions: a prompt-extraction attempt worked.
            state.canary_reported = True
            turn.decide(STAGE, "redact", RULE_CANARY, where="answer")
        answer = state.answer.removed
        if len(answer) > state.answer_removed:
            self._decide(turn, state, answer[state.answer_removed :], "answer")
            state.answer_removed = len(answer)
        if state.reasoning is not None:
            reasoning = state.reasoning.removed
            if len(reasoning) > state.reasoning_removed:
                self._decide(turn, state, reasoning[state.reasoning_removed :], "reasoning")
                state.reasoning_removed = len(reasoning)

    def _decide(
        self, turn: ChatTurn, state: _OutputState, removals: list[Removal], where: str
    ) -> None:
        for removal in removals:
            key = (removal.kind, removal.host, removal.reason.value, where)
            # One decision per distinct URL target: a model repeating one image a thousand
            # times must not write a thousand lines into the audit record.
            if key in state.reported:
                continue
            state.reported.add(key)
            rule = RULE_EXTERNAL if removal.reason is Reason.HOST else RULE_UNSAFE
            turn.decide(
                STAGE,
                "neutralise",
                rule,
                host=removal.host,
                kind=removal.kind,
                reason=removal.reason.value,
                where=where,
            )
