"""Stages 2 and 6: guard.inbound scans what goes to the model, guard.outbound what comes back.

Both hold their detectors already; with none configured they pass everything through. The
detectors and the actions on their findings arrive with the guard issue.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from mamori.domain.chat import StreamEvent
from mamori.guard.detector import Detector
from mamori.pipeline.turn import ChatTurn


class InboundGuardStage:
    name = "guard.inbound"

    def __init__(self, detectors: Sequence[Detector] = ()) -> None:
        self.detectors = tuple(detectors)

    async def prepare(self, turn: ChatTurn) -> None:
        # Every message goes upstream, not only the newest: a My Number pasted three turns ago
        # is in this request too, and /v1 clients send whole histories of their own.
        for message in turn.messages:
            if not message.content:
                continue
            source = _SOURCES.get(message.role, "user")
            for detector in self.detectors:
                turn.findings.extend(detector.detect(message.content, source=source))


_SOURCES = {"user": "user", "system": "user", "assistant": "answer", "tool": "tool"}


class OutboundGuardStage:
    name = "guard.outbound"

    def on_event(self, turn: ChatTurn, event: StreamEvent) -> Iterable[StreamEvent]:
        return (event,)

    async def on_end(self, turn: ChatTurn) -> Iterable[StreamEvent]:
        return ()
