"""Encoders for the two streaming faces: the workspace's SSE events and OpenAI chunks.

These run once per streamed token, so they build bytes directly around a prefix computed once
per response, instead of building and serialising whole dicts.
"""

from __future__ import annotations

import time

import orjson

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


def app_event(name: str, data: object) -> bytes:
    return b"event: " + name.encode() + b"\ndata: " + orjson.dumps(data) + b"\n\n"


class OpenAIChunkEncoder:
    """Turns StreamEvents into ``chat.completion.chunk`` SSE lines for one response."""

    def __init__(self, completion_id: str, model: str, created: int | None = None) -> None:
        head = orjson.dumps(
            {
                "id": completion_id,
                "object": "chat.completion.chunk",
                "created": created if created is not None else int(time.time()),
                "model": model,
            }
        )[:-1]  # drop the closing brace; each chunk appends its own tail
        self._prefix = b"data: " + head + b',"choices":[{"index":0,"delta":'
        self._usage_prefix = b"data: " + head + b',"choices":[],"usage":'
        self._head = head

    def extension_chunk(self, fields: dict[str, object]) -> bytes:
        """A chunk with no choices carrying mamori's own fields (``citations``)."""
        tail = orjson.dumps({"choices": [], **fields})[1:]  # without its opening brace
        return b"data: " + self._head + b"," + tail + b"\n\n"

    def encode(self, event: StreamEvent) -> bytes | None:
        match event:
            case ContentDelta(text=text):
                return self._delta(b'{"content":' + orjson.dumps(text) + b"}")
            case ReasoningDelta(text=text) | ReasoningSummary(text=text):
                # A summary goes where clients look for reasoning; progress has no place here.
                return self._delta(b'{"reasoning":' + orjson.dumps(text) + b"}")
            case ToolCallDelta():
                call: dict[str, object] = {"index": event.index, "type": "function"}
                if event.id is not None:
                    call["id"] = event.id
                function: dict[str, str] = {"arguments": event.arguments}
                if event.name is not None:
                    function["name"] = event.name
                call["function"] = function
                return self._delta(orjson.dumps({"tool_calls": [call]}))
            case Usage():
                return self._usage_prefix + orjson.dumps(usage_json(event)) + b"}\n\n"
            case Done(finish_reason=reason):
                return (
                    self._prefix + b'{},"finish_reason":' + orjson.dumps(reason.value) + b"}]}\n\n"
                )
            case ErrorEvent():
                return (
                    b"data: " + orjson.dumps(openai_error_body(event.code, event.message)) + b"\n\n"
                )
        return None

    def role_chunk(self) -> bytes:
        return self._delta(b'{"role":"assistant","content":""}')

    def _delta(self, delta: bytes) -> bytes:
        return self._prefix + delta + b',"finish_reason":null}]}\n\n'


DONE_LINE = b"data: [DONE]\n\n"


def usage_json(usage: Usage) -> dict[str, int]:
    return {
        "prompt_tokens": usage.prompt_tokens,
        "completion_tokens": usage.completion_tokens,
        "total_tokens": usage.total_tokens,
    }


def openai_error_body(code: str, message: str, type_: str = "api_error") -> dict[str, object]:
    return {"error": {"message": message, "type": type_, "code": code, "param": None}}
