"""Runs one ChatTurn through the ordered stages and yields what the client should see."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncGenerator, Sequence
from contextlib import aclosing

import anyio

from mamori.domain.audit import TurnStatus
from mamori.domain.chat import Done, ErrorEvent, StreamEvent
from mamori.errors import MamoriError, QuotaExceededError, UpstreamError
from mamori.pipeline.stage import EventSource, EventStage, FinishStage, PrepareStage
from mamori.pipeline.turn import ChatTurn

log = logging.getLogger(__name__)


class ChatPipeline:
    def __init__(
        self,
        *,
        prepare: Sequence[PrepareStage],
        source: EventSource,
        on_event: Sequence[EventStage],
        finish: Sequence[FinishStage],
    ) -> None:
        self.prepare_stages = tuple(prepare)
        self.source = source
        self.event_stages = tuple(on_event)
        self.finish_stages = tuple(finish)

    @property
    def stage_names(self) -> list[str]:
        return [
            *(s.name for s in self.prepare_stages),
            self.source.name,
            *(s.name for s in self.event_stages),
            *(s.name for s in self.finish_stages),
        ]

    async def run(self, turn: ChatTurn) -> AsyncGenerator[StreamEvent, None]:
        """Yield the client-visible events of ``turn``; always ends with Done or ErrorEvent.

        Errors never escape as exceptions: the client gets an ``ErrorEvent`` saying whether
        anything had been streamed before it, and the finish stages always run, also when the
        client goes away (cancellation) — the partial answer and the audit record are kept.
        Consume it inside ``contextlib.aclosing`` so that a consumer cancelled between two
        events closes the turn at once rather than whenever the generator is collected.
        """
        try:
            for stage in self.prepare_stages:
                await stage.prepare(turn)
            stages = self.event_stages
            # aclosing: a consumer that goes away between two events closes the engine's stream
            # now, before the finish stages run, not whenever the generator is collected.
            async with aclosing(self.source.stream(turn)) as source:
                if len(stages) == 3:  # the factory's pipeline, written out: no list per event
                    first, second, third = stages
                    async for event in source:
                        turn.record(event)
                        for passed in first.on_event(turn, event):
                            for checked in second.on_event(turn, passed):
                                for out in third.on_event(turn, checked):
                                    yield out
                else:
                    async for event in source:
                        turn.record(event)
                        for out in self._through_event_stages(turn, event):
                            yield out
            for index, event_stage in enumerate(stages):
                for event in await event_stage.on_end(turn):
                    for out in self._through_event_stages(turn, event, start=index + 1):
                        yield out
            if turn.finish_reason is None:
                # A source that forgot to say so still ended cleanly.
                yield Done()
        except MamoriError as exc:
            turn.error = exc
            turn.status = _status_for_error(turn, exc)
            log.warning(
                "chat turn ended with %s: %s",
                exc.code,
                exc.message,
                extra={"turn_id": turn.id, "status": turn.status.value},
            )
            yield ErrorEvent(
                code=exc.code,
                message=exc.message,
                before_first_byte=not turn.has_output,
                retry_after=exc.retry_after,
            )
        except (asyncio.CancelledError, GeneratorExit):
            turn.status = TurnStatus.CANCELLED
            raise
        except Exception as exc:
            log.exception("chat turn failed", extra={"turn_id": turn.id})
            turn.error = MamoriError(str(exc))
            turn.status = TurnStatus.INCOMPLETE if turn.has_output else TurnStatus.ERROR
            yield ErrorEvent(
                code="internal_error",
                message="internal error",
                before_first_byte=not turn.has_output,
            )
        finally:
            turn.ended_at = time.perf_counter()
            # Shielded: a client that hangs up must not cost us the record of what happened.
            with anyio.CancelScope(shield=True):
                await self._finish(turn)

    def _through_event_stages(
        self, turn: ChatTurn, event: StreamEvent, start: int = 0
    ) -> list[StreamEvent]:
        events = [event]
        for stage in self.event_stages[start:]:
            events = [out for ev in events for out in stage.on_event(turn, ev)]
        return events

    async def _finish(self, turn: ChatTurn) -> None:
        for stage in self.finish_stages:
            try:
                await stage.finish(turn)
            except Exception:
                # A failing finish stage must not hide the next one (the audit record).
                log.exception("finish stage %s failed", stage.name, extra={"turn_id": turn.id})


def _status_for_error(turn: ChatTurn, exc: MamoriError) -> TurnStatus:
    if turn.has_output:
        return TurnStatus.INCOMPLETE
    if isinstance(exc, UpstreamError):
        return TurnStatus.ERROR
    if isinstance(exc, QuotaExceededError):
        return TurnStatus.QUOTA
    if exc.http_status in (401, 403):
        return TurnStatus.DENIED
    return TurnStatus.ERROR
