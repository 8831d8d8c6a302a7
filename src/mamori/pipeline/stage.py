"""The three kinds of stage a chat turn passes through.

A stage never calls another stage; the runner calls them in the order the factory chose.

- ``PrepareStage``: runs before the model is called (classify, guard inbound, retrieve, route).
  It may add to the turn or raise a ``MamoriError`` to refuse it.
- ``EventStage``: sees every streamed event on its way to the client (guard outbound, the
  reasoning display). ``on_event`` is synchronous on purpose: it runs ten thousand times a
  second under load. Stages are shared by all turns; per-turn state lives on the turn.
- ``FinishStage``: runs once after the turn ended, however it ended (persist and audit).

The source of events, the gateway, is the ``EventSource`` between them.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, Iterable
from typing import Protocol

from mamori.domain.chat import StreamEvent
from mamori.pipeline.turn import ChatTurn


class PrepareStage(Protocol):
    name: str

    async def prepare(self, turn: ChatTurn) -> None: ...


class EventSource(Protocol):
    name: str

    def stream(self, turn: ChatTurn) -> AsyncGenerator[StreamEvent, None]: ...


class EventStage(Protocol):
    name: str

    def on_event(self, turn: ChatTurn, event: StreamEvent) -> Iterable[StreamEvent]: ...

    async def on_end(self, turn: ChatTurn) -> Iterable[StreamEvent]:
        """Events after the source ended; may wait (e.g. for a summary still being written)."""
        ...


class FinishStage(Protocol):
    name: str

    async def finish(self, turn: ChatTurn) -> None: ...
