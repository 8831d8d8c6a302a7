"""Stages 2 and 6: guard.inbound scans what goes to the model, guard.outbound what comes back.

guard.inbound runs every registered detector (personal data and prompt injection) over
everything that goes upstream, and applies the policy's injection actions by source: a
retrieved document or tool result that tries to instruct the model is kept out of its context.
What happens to personal data is decided after routing, by guard.transform.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from mamori.domain.chat import (
    ChatMessage,
    ContentDelta,
    Done,
    ErrorEvent,
    ReasoningDelta,
    StreamEvent,
    ToolCallDelta,
)
from mamori.domain.documents import DOCUMENT_PREFIX
from mamori.domain.guard import InjectionAction
from mamori.errors import PolicyDeniedError
from mamori.guard.answer_mask import AnswerMasker
from mamori.guard.detector import Detector
from mamori.guard.injection import is_injection_kind
from mamori.pipeline.turn import AnswerMaskState, ChatTurn
from mamori.policy.sovereignty import DEFAULT_INJECTION_ACTIONS


class InjectionBlockedError(PolicyDeniedError):
    code = "injection_blocked"


class InboundGuardStage:
    name = "guard.inbound"

    def __init__(
        self,
        detectors: Sequence[Detector] = (),
        injection_actions: Mapping[str, InjectionAction] | None = None,
    ) -> None:
        self.detectors = tuple(detectors)
        self.injection_actions = dict(injection_actions or DEFAULT_INJECTION_ACTIONS)

    async def prepare(self, turn: ChatTurn) -> None:
        # Everything that goes upstream is scanned, not only the newest question: a My Number
        # pasted three turns ago is in this request too, /v1 clients send whole histories of
        # their own, and a tool loop carries reasoning and call arguments back to the engine.
        kept: list[ChatMessage] = []
        for message in turn.messages:
            source = source_of(message)
            found = [
                finding
                for text in _texts_sent(message)
                for detector in self.detectors
                for finding in detector.detect(text, source=source)
            ]
            turn.findings.extend(found)
            attack = sorted({f.kind for f in found if is_injection_kind(f.kind)})
            screened = self._screen(turn, message, source, attack) if attack else message
            if screened is not None:
                kept.append(screened)
        turn.messages = kept

    def _screen(
        self, turn: ChatTurn, message: ChatMessage, source: str, kinds: list[str]
    ) -> ChatMessage | None:
        return apply_injection_action(
            turn, self.name, message, source, kinds, self.injection_actions
        )


def apply_injection_action(
    turn: ChatTurn,
    stage: str,
    message: ChatMessage,
    source: str,
    kinds: list[str],
    actions: Mapping[str, InjectionAction],
) -> ChatMessage | None:
    """The policy's action on a message judged an injection attempt: the message to send on,
    a stand-in for a withheld tool result, or None when it is kept out of the context."""
    action = actions.get(source, InjectionAction.DROP)
    detail = {"source": source, "kinds": ",".join(kinds)}
    if message.name:
        detail["document"] = message.name
    turn.decide(stage, f"injection-{action.value}", f"guard.injection.{source}", **detail)
    if action is InjectionAction.BLOCK:
        raise InjectionBlockedError(f"prompt injection ({', '.join(kinds)}) from {source}")
    if action is InjectionAction.WARN or message.role == "user":
        # The person's own words are never silently dropped: they see what they sent.
        return message
    if message.role == "tool":
        # The call still needs an answer for the loop to be valid; the content does not.
        return ChatMessage(
            role="tool",
            content=DROPPED_TOOL_RESULT,
            tool_call_id=message.tool_call_id,
            name=message.name,
        )
    return None


DROPPED_TOOL_RESULT = (
    "〔このツール結果は、AIへの指示が含まれていたため安全上の理由で除外されました。〕"
    "(This tool result was withheld: it contained instructions to the AI.)"
)


def source_of(message: ChatMessage) -> str:
    """Where a message's text came from, for detectors that judge by source."""
    if message.role == "system" and (message.name or "").startswith(DOCUMENT_PREFIX):
        return "document"
    return _SOURCES.get(message.role, "user")


def _texts_sent(message: ChatMessage) -> Iterable[str]:
    if message.content:
        yield message.content
    if message.reasoning:
        yield message.reasoning
    for call in message.tool_calls:
        yield call.arguments


_SOURCES = {"user": "user", "system": "user", "assistant": "answer", "tool": "tool"}


class OutboundGuardStage:
    """Personal data in answers to people whose groups must not see it becomes its kind.

    Which groups is the policy file's ``[answers] mask_personal_data_for``; everyone else's
    answers pass untouched.
    """

    name = "guard.outbound"

    def __init__(
        self, detectors: Sequence[Detector] = (), masked_groups: Iterable[str] = ()
    ) -> None:
        self.detectors = [d for d in detectors if not any(map(is_injection_kind, d.kinds))]
        self.masked_groups = frozenset(masked_groups)

    def on_event(self, turn: ChatTurn, event: StreamEvent) -> Iterable[StreamEvent]:
        if not self.masked_groups or type(event) not in (ContentDelta, ReasoningDelta):
            state = turn.answer_mask
            if state is None or type(event) not in _RELEASING:
                return (event,)
            return [*self._release(turn, state), event]
        state = self._state(turn)
        if state is None:
            return (event,)
        if isinstance(event, ReasoningDelta):
            text = state.reasoning.feed(event.text)
            return [ReasoningDelta(text)] if text else []
        assert isinstance(event, ContentDelta)
        text = state.answer.feed(event.text)
        state.shown.append(text)
        return [ContentDelta(text)] if text else []

    async def on_end(self, turn: ChatTurn) -> Iterable[StreamEvent]:
        state = turn.answer_mask
        if state is None:
            return ()
        out = self._release(turn, state)
        if state.answer.masked:
            # Stored as shown: reopening the conversation must not reveal what was hidden.
            turn.answer_parts[:] = ["".join(state.shown)]
        masked = state.answer.masked + state.reasoning.masked
        if masked:
            turn.decide(
                self.name,
                "mask",
                RULE_ANSWER_MASK,
                kinds=",".join(sorted(masked)),
                count=str(sum(masked.values())),
            )
        return out

    def _state(self, turn: ChatTurn) -> AnswerMaskState | None:
        if turn.answer_mask is not None:
            return turn.answer_mask
        if not any(g.name in self.masked_groups for g in turn.principal.groups):
            return None
        own = [m.content for m in turn.messages if m.role == "user"]
        turn.answer_mask = AnswerMaskState(
            AnswerMasker(self.detectors, own), AnswerMasker(self.detectors, own)
        )
        return turn.answer_mask

    @staticmethod
    def _release(turn: ChatTurn, state: AnswerMaskState) -> list[StreamEvent]:
        out: list[StreamEvent] = []
        if state.reasoning.holding and (text := state.reasoning.flush()):
            out.append(ReasoningDelta(text))
        if state.answer.holding:
            text = state.answer.flush()
            state.shown.append(text)
            if text:
                out.append(ContentDelta(text))
        return out


RULE_ANSWER_MASK = "guard.answer.personal-data"
_RELEASING = (Done, ToolCallDelta, ErrorEvent)
