"""Stages 2 and 6: guard.inbound scans what goes to the model, guard.outbound what comes back.

Both hold their detectors already; with none configured they pass everything through. The
detectors and the actions on their findings arrive with the guard issue.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from mamori.domain.chat import ChatMessage, StreamEvent
from mamori.guard.detector import Detector
from mamori.pipeline.turn import ChatTurn


class InboundGuardStage:
    name = "guard.inbound"

    def __init__(self, detectors: Sequence[Detector] = ()) -> None:
        self.detectors = tuple(detectors)

    async def prepare(self, turn: ChatTurn) -> None:
        # Everything that goes upstream is scanned, not only the newest question: a My Number
        # pasted three turns ago is in this request too, /v1 clients send whole histories of
        # their own, and a tool loop carries reasoning and call arguments back to the engine.
        for message in turn.messages:
            source = _SOURCES.get(message.role, "user")
            for text in _texts_sent(message):
                for detector in self.detectors:
                    turn.findings.extend(detector.detect(text, source=source))
        for tool in turn.tools:
            for detector in self.detectors:
                turn.findings.extend(detector.detect(tool.description, source="tool"))


def _texts_sent(message: ChatMessage) -> Iterable[str]:
    if message.content:
        yield message.content
    if message.reasoning:
        yield message.reasoning
    for call in message.tool_calls:
        yield call.arguments


_SOURCES = {"user": "user", "system": "user", "assistant": "answer", "tool": "tool"}


class OutboundGuardStage:
    name = "guard.outbound"

    def on_event(self, turn: ChatTurn, event: StreamEvent) -> Iterable[StreamEvent]:
        return (event,)

    async def on_end(self, turn: ChatTurn) -> Iterable[StreamEvent]:
        return ()
