"""The OpenAI-compatible face: /v1/models and /v1/chat/completions, authenticated by API key."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing

from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse

from mamori.domain.chat import (
    ContentDelta,
    Done,
    ErrorEvent,
    ReasoningDelta,
    ReasoningSummary,
    StreamEvent,
    ToolCallDelta,
    Usage,
)
from mamori.pipeline.turn import ChatTurn
from mamori.rag import access
from mamori.web.deps import ApiPrincipal, ServicesDep
from mamori.web.knowledge_json import citation_json
from mamori.web.openai_common import (
    client_message,
    drain,
    error_response,
    parse_body,
    request_label,
    with_model_defaults,
)
from mamori.web.openai_schema import ChatCompletionRequest
from mamori.web.responses import Json
from mamori.web.sse import DONE_LINE, OpenAIChunkEncoder, usage_json

router = APIRouter(prefix="/v1")


@router.get("/models")
async def list_models(principal: ApiPrincipal, services: ServicesDep) -> Json:
    created = int(time.time())
    data = [
        {"id": m.name, "object": "model", "created": created, "owned_by": "mamori"}
        for m in services.registry.models()
        if principal.may_use_model(m.name)
    ]
    return Json({"object": "list", "data": data})


@router.post("/chat/completions", response_model=None)
async def chat_completions(
    request: Request, principal: ApiPrincipal, services: ServicesDep
) -> Response:
    body = await parse_body(request, ChatCompletionRequest)
    sampling = with_model_defaults(services, body.model, body.sampling())
    chosen = await access.readable(services.db, principal, body.knowledge_bases)
    turn = ChatTurn(
        principal=principal,
        model=body.model,
        messages=[m.to_domain() for m in body.messages],
        sampling=sampling,
        reasoning_effort=body.reasoning_effort,
        tools=body.tool_specs(),
        tool_choice=body.tool_choice,
        conversation_label=request_label(request),
        knowledge_bases=tuple(kb.id for kb in chosen),
    )
    events = services.pipeline.run(turn)
    completion_id = f"chatcmpl-{turn.id}"
    if not body.stream:
        return await _complete(events, completion_id, body.model, turn)

    # Pull the first event before answering, so a failure before the first byte becomes a
    # proper HTTP error instead of a 200 with an error inside the stream.
    first = await anext(events)
    if isinstance(first, ErrorEvent):
        await drain(events)
        return error_response(first)
    include_usage = bool(body.stream_options and body.stream_options.include_usage)
    encoder = OpenAIChunkEncoder(completion_id, body.model)
    return StreamingResponse(
        _stream(first, events, encoder, include_usage, turn),
        media_type="text/event-stream",
        headers={"cache-control": "no-cache", "x-accel-buffering": "no"},
    )


async def _stream(
    first: StreamEvent,
    events: AsyncGenerator[StreamEvent, None],
    encoder: OpenAIChunkEncoder,
    include_usage: bool,
    turn: ChatTurn,
) -> AsyncIterator[bytes]:
    async with aclosing(events):
        yield encoder.role_chunk()
        event: StreamEvent | None = first
        while event is not None:
            if isinstance(event, ErrorEvent):
                # The stream already started: the error goes in-band and the response ends.
                await drain(events)
                chunk = encoder.encode(dataclasses.replace(event, message=client_message(event)))
                if chunk:
                    yield chunk
                return
            if include_usage or not isinstance(event, Usage):
                chunk = encoder.encode(event)
                if chunk:
                    yield chunk
            event = await anext(events, None)
        if turn.citations:
            # One more chunk, with no choices, as the usage chunk has none: clients that do
            # not know the field pass it by.
            yield encoder.extension_chunk({"citations": citations_json(turn)})
        yield DONE_LINE


async def _complete(
    events: AsyncIterator[StreamEvent], completion_id: str, model: str, turn: ChatTurn
) -> Json:
    content: list[str] = []
    reasoning: list[str] = []
    calls: dict[int, _ToolCallParts] = {}
    usage: Usage | None = None
    finish = "stop"
    async for event in events:
        match event:
            case ContentDelta(text=text):
                content.append(text)
            case ReasoningDelta(text=text) | ReasoningSummary(text=text):
                reasoning.append(text)
            case ToolCallDelta(index=index):
                calls.setdefault(index, _ToolCallParts()).add(event)
            case Usage():
                usage = event
            case Done(finish_reason=reason):
                finish = reason.value
            case ErrorEvent():
                await drain(events)
                return error_response(event)
    message: dict[str, object] = {"role": "assistant", "content": "".join(content)}
    if reasoning:
        message["reasoning"] = "".join(reasoning)
    if calls:
        message["tool_calls"] = [calls[i].as_json() for i in sorted(calls)]
    body: dict[str, object] = {
        "id": completion_id,
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": message, "finish_reason": finish}],
    }
    if usage is not None:
        body["usage"] = usage_json(usage)
    if turn.knowledge_bases:
        body["citations"] = citations_json(turn)
    return Json(body)


def citations_json(turn: ChatTurn) -> list[dict[str, object]]:
    return [citation_json(c) for c in turn.citations]


class _ToolCallParts:
    """One tool call of a non-streamed answer, assembled from its streamed pieces."""

    def __init__(self) -> None:
        self.id = ""
        self.name = ""
        self.arguments: list[str] = []

    def add(self, delta: ToolCallDelta) -> None:
        self.id = delta.id or self.id
        self.name = delta.name or self.name
        self.arguments.append(delta.arguments)

    def as_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "type": "function",
            "function": {"name": self.name, "arguments": "".join(self.arguments)},
        }
