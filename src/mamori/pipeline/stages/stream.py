"""Stage 5: gateway.stream — calls the chosen engine, failing over before the first byte."""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator
from contextlib import aclosing

from mamori.domain.chat import ChatMessage, StreamEvent, ToolCallDelta, UpstreamRequest
from mamori.errors import (
    MamoriError,
    UnrequestedToolCallError,
    UpstreamError,
    UpstreamNoAnswerError,
    UpstreamStatusError,
    UpstreamUnavailableError,
)
from mamori.gateway.registry import EndpointRegistry
from mamori.guard.pseudonymise import EventRestorer
from mamori.pipeline.turn import ChatTurn

log = logging.getLogger(__name__)


class GatewayStreamStage:
    name = "gateway.stream"

    def __init__(self, registry: EndpointRegistry) -> None:
        self.registry = registry

    async def stream(self, turn: ChatTurn) -> AsyncGenerator[StreamEvent, None]:
        last_error: MamoriError | None = None
        model = self.registry.model(turn.model)
        for endpoint in turn.candidates:
            turn.endpoint = endpoint
            request = UpstreamRequest(
                upstream_model=endpoint.models[turn.model],
                messages=tuple(_for_engine(turn.upstream_messages or turn.messages)),
                sampling=turn.sampling,
                reasoning_effort=turn.reasoning_effort,
                tools=turn.tools,
                tool_choice=turn.tool_choice,
                context_length=model.context_length if model else None,
            )
            lease = self.registry.lease(endpoint)
            if lease is None:  # removed or changed since the route was planned
                last_error = UpstreamUnavailableError(
                    f"endpoint {endpoint.name!r} was removed or changed"
                )
                continue
            # Placeholders the guard put in go back to the originals before anyone sees them.
            restorer = EventRestorer(turn.vault) if turn.vault else None
            try:
                async with aclosing(lease.backend.stream(request)) as events:
                    async for event in events:
                        if type(event) is ToolCallDelta and not request.tools:
                            raise UnrequestedToolCallError(
                                f"the model called tool {event.name!r} but none was offered"
                            )
                        if restorer is None:
                            yield event
                            continue
                        for restored in restorer.restore(event):
                            yield restored
                self.registry.mark_success(endpoint.name)
                return
            except UpstreamError as exc:
                if not _worth_failover(exc):
                    raise
                self.registry.mark_failure(endpoint.name, exc)
                if turn.has_output:
                    # Splicing a second engine's answer onto the first would be garbage.
                    raise
                turn.decide(
                    self.name,
                    "failover",
                    "gateway.failover-before-first-byte",
                    endpoint=endpoint.name,
                    error=exc.code,
                )
                log.warning("endpoint %s failed before first byte: %s", endpoint.name, exc.code)
                last_error = exc
            finally:
                self.registry.release(lease)
        assert last_error is not None
        raise last_error


def _worth_failover(exc: UpstreamError) -> bool:
    # A 4xx means our request was bad; another endpoint of the same engine would say the same.
    # An unusable answer is the model's doing, not the endpoint's: it stays healthy.
    if isinstance(exc, UpstreamNoAnswerError | UnrequestedToolCallError):
        return False
    return not (isinstance(exc, UpstreamStatusError) and 400 <= exc.status < 500)


def _for_engine(messages: list[ChatMessage]) -> list[ChatMessage]:
    """Drop chain of thought from finished turns: harmony says it must not be sent back."""
    result: list[ChatMessage] = []
    for message in messages:
        if message.reasoning is not None and message.role == "assistant" and not message.tool_calls:
            message = ChatMessage(role=message.role, content=message.content, name=message.name)
        result.append(message)
    return result
