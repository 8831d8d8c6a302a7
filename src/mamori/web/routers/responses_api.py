"""/v1/responses: OpenAI's Responses API over the same pipeline as /v1/chat/completions.

Only the edge differs: the request becomes a ChatTurn (policy, guards, routing, the engine's own
dialect, persistence and audit all run as for a chat completion), and the turn's StreamEvents
become Responses API items. mamori keeps no response state: every request carries its whole
conversation, and features that need stored responses are refused with a 400.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing

from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse

from mamori.domain.chat import ErrorEvent, StreamEvent
from mamori.errors import UnsupportedFeatureError
from mamori.pipeline.turn import ChatTurn
from mamori.web.deps import ApiPrincipal, ServicesDep
from mamori.web.openai_common import (
    client_message,
    drain,
    error_response,
    parse_body,
    request_label,
    with_model_defaults,
)
from mamori.web.responses import Json
from mamori.web.responses_schema import ResponsesRequest
from mamori.web.responses_stream import ResponseEncoder, ResponseHead

router = APIRouter(prefix="/v1")


@router.post("/responses", response_model=None)
async def create_response(
    request: Request, principal: ApiPrincipal, services: ServicesDep
) -> Response:
    body = await parse_body(request, ResponsesRequest)
    refusal = body.unsupported()
    if refusal is not None:
        raise UnsupportedFeatureError(refusal)
    turn = ChatTurn(
        principal=principal,
        model=body.model,
        messages=body.messages(),
        sampling=with_model_defaults(services, body.model, body.sampling()),
        reasoning_effort=body.reasoning.effort if body.reasoning else None,
        tools=body.tool_specs(),
        tool_choice=body.domain_tool_choice(),
        conversation_label=request_label(request),
    )
    events = services.pipeline.run(turn)
    head = ResponseHead(id=f"resp_{turn.id}", model=body.model, echo=body.echo())
    # The pipeline's reasoning display stage already replaced what this person may not see.
    encoder = ResponseEncoder(head, show_reasoning=True, stream=body.stream)
    if not body.stream:
        return await _complete(events, encoder)

    # As for chat completions: a failure before the first byte is a proper HTTP error.
    first = await anext(events)
    if isinstance(first, ErrorEvent):
        await drain(events)
        return error_response(first)
    return StreamingResponse(
        _stream(first, events, encoder),
        media_type="text/event-stream",
        headers={"cache-control": "no-cache", "x-accel-buffering": "no"},
    )


async def _stream(
    first: StreamEvent, events: AsyncGenerator[StreamEvent, None], encoder: ResponseEncoder
) -> AsyncIterator[bytes]:
    async with aclosing(events):
        yield encoder.start()
        event: StreamEvent | None = first
        while event is not None:
            if isinstance(event, ErrorEvent):
                # Started already: the failure goes in-band, once the turn is on record.
                await drain(events)
                yield encoder.fail(event.code, client_message(event))
                return
            chunk = encoder.encode(event)
            if chunk:
                yield chunk
            event = await anext(events, None)
        yield encoder.finish()


async def _complete(
    events: AsyncGenerator[StreamEvent, None], encoder: ResponseEncoder
) -> Response:
    async with aclosing(events):
        async for event in events:
            if isinstance(event, ErrorEvent):
                await drain(events)
                return error_response(event)
            encoder.encode(event)
    return Json(encoder.final_json())
