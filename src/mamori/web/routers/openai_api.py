"""The OpenAI-compatible face: /v1/models and /v1/chat/completions, authenticated by API key."""

from __future__ import annotations

import dataclasses
import time
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import aclosing

import orjson
from fastapi import APIRouter, Request
from fastapi.responses import Response, StreamingResponse
from pydantic import ValidationError

from mamori.domain.chat import (
    ContentDelta,
    Done,
    ErrorEvent,
    ReasoningDelta,
    StreamEvent,
    ToolCallDelta,
    Usage,
)
from mamori.errors import InvalidRequestError, http_status_for
from mamori.pipeline.turn import ChatTurn
from mamori.web.deps import ApiPrincipal, ServicesDep
from mamori.web.i18n import translate
from mamori.web.openai_schema import ChatCompletionRequest
from mamori.web.responses import Json
from mamori.web.sse import DONE_LINE, OpenAIChunkEncoder, openai_error_body, usage_json

router = APIRouter(prefix="/v1")


@router.get("/models")
async def list_models(principal: ApiPrincipal, services: ServicesDep) -> Json:
    created = int(time.time())
    data = [
        {"id": m.name, "object": "model", "created": created, "owned_by": "mamori"}
        for m in services.registry.models()
    ]
    return Json({"object": "list", "data": data})


@router.post("/chat/completions", response_model=None)
async def chat_completions(
    request: Request, principal: ApiPrincipal, services: ServicesDep
) -> Response:
    body = await _parse(request)
    sampling = body.sampling()
    model = services.registry.model(body.model)
    if sampling.max_tokens is None and model is not None and model.max_output_tokens:
        sampling = dataclasses.replace(sampling, max_tokens=model.max_output_tokens)
    turn = ChatTurn(
        principal=principal,
        model=body.model,
        messages=[m.to_domain() for m in body.messages],
        sampling=sampling,
        reasoning_effort=body.reasoning_effort,
        tools=body.tool_specs(),
        tool_choice=body.tool_choice,
    )
    events = services.pipeline.run(turn)
    completion_id = f"chatcmpl-{turn.id}"
    if not body.stream:
        return await _complete(events, completion_id, body.model)

    # Pull the first event before answering, so a failure before the first byte becomes a
    # proper HTTP error instead of a 200 with an error inside the stream.
    first = await anext(events)
    if isinstance(first, ErrorEvent):
        async for _ in events:
            pass
        return _error_response(first)
    include_usage = bool(body.stream_options and body.stream_options.include_usage)
    encoder = OpenAIChunkEncoder(completion_id, body.model)
    return StreamingResponse(
        _stream(first, events, encoder, include_usage),
        media_type="text/event-stream",
        headers={"cache-control": "no-cache", "x-accel-buffering": "no"},
    )


async def _parse(request: Request) -> ChatCompletionRequest:
    raw = await request.body()
    try:
        return ChatCompletionRequest.model_validate(orjson.loads(raw))
    except orjson.JSONDecodeError as exc:
        raise InvalidRequestError(f"request body is not valid JSON: {exc}") from exc
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:5]
        )
        raise InvalidRequestError(f"invalid request: {problems}") from exc


async def _stream(
    first: StreamEvent,
    events: AsyncGenerator[StreamEvent, None],
    encoder: OpenAIChunkEncoder,
    include_usage: bool,
) -> AsyncIterator[bytes]:
    async with aclosing(events):
        yield encoder.role_chunk()
        event: StreamEvent | None = first
        while event is not None:
            if isinstance(event, ErrorEvent):
                # The stream already started: the error goes in-band and the response ends.
                # The turn is finished (saved, audited) first, so a client that reacts to the
                # error at once already finds the record.
                async for _ in events:
                    pass
                chunk = encoder.encode(dataclasses.replace(event, message=client_message(event)))
                if chunk:
                    yield chunk
                return
            if include_usage or not isinstance(event, Usage):
                chunk = encoder.encode(event)
                if chunk:
                    yield chunk
            event = await anext(events, None)
        yield DONE_LINE


async def _complete(events: AsyncIterator[StreamEvent], completion_id: str, model: str) -> Json:
    content: list[str] = []
    reasoning: list[str] = []
    calls: dict[int, _ToolCallParts] = {}
    usage: Usage | None = None
    finish = "stop"
    async for event in events:
        match event:
            case ContentDelta(text=text):
                content.append(text)
            case ReasoningDelta(text=text):
                reasoning.append(text)
            case ToolCallDelta(index=index):
                calls.setdefault(index, _ToolCallParts()).add(event)
            case Usage():
                usage = event
            case Done(finish_reason=reason):
                finish = reason.value
            case ErrorEvent():
                async for _ in events:
                    pass
                return _error_response(event)
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
    return Json(body)


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


def _error_response(event: ErrorEvent) -> Json:
    status = http_status_for(event.code)
    return Json(
        openai_error_body(event.code, client_message(event), _error_type(status)),
        status_code=status,
    )


def client_message(event: ErrorEvent) -> str:
    """A fixed text per error code. The detail (engine names, internal hosts and ports) stays in
    mamori's log and the audit record; API clients are often outside the data centre."""
    return translate("en", f"error.{event.code}")


def _error_type(status: int) -> str:
    if status == 400:
        return "invalid_request_error"
    if status in (401, 403):
        return "authentication_error"
    if status == 404:
        return "not_found_error"
    return "api_error"
