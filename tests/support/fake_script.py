"""What the fake engine answers: a frozen ``Script``, and its encoding in OpenAI's wire shape.

Ollama's native shape of the same Script is in ``fake_ollama``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson

_HARMONY_ERROR = (
    b'{"object":"error","message":"HarmonyError: Unexpected token 200002 while expecting start '
    b'token 200006","type":"InternalServerError","param":null,"code":503}'
)


@dataclass(frozen=True, slots=True)
class ToolCallScript:
    id: str
    name: str
    # Streamed one piece per chunk, the way engines split arguments.
    arguments: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Script:
    """What one response looks like. Frozen and hashable: its encoding is cached."""

    model: str = "gpt-oss-120b"
    # The delta field(s) reasoning goes in: "reasoning" (vLLM, Ollama /v1), "reasoning_content"
    # (SGLang, llama.cpp, older vLLM), "thinking"; several repeat it; None sends no reasoning.
    reasoning_field: str | tuple[str, ...] | None = "reasoning"
    # Tokens, or a count of generated ones (" r0", " r1", ... / " t0", " t1", ...).
    reasoning: tuple[str, ...] | int = ()
    content: tuple[str, ...] | int = ("Hello", ",", " world")
    tool_calls: tuple[ToolCallScript, ...] = ()
    delay: float = 0.0  # seconds between events
    first_event_delay: float = 0.0  # seconds between the headers and the first event (prefill)
    role_chunk: bool = True  # a first {"role": "assistant", "content": ""} delta, as vLLM sends
    finish_reason: str | None = "stop"  # None: no chunk carries a finish_reason
    include_usage: bool = True
    usage_with_finish: bool = False  # usage inside the finish chunk instead of a chunk of its own
    # completion_tokens_details.reasoning_tokens in the usage, as recent vLLM reports it.
    report_reasoning_tokens: bool = False
    prompt_tokens: int = 12
    send_done: bool = True
    # Replaces everything above when set: these bytes go out verbatim, one HTTP chunk each.
    wire: tuple[bytes, ...] | None = None
    # Faults.
    status: int | None = None  # answer this status with ``status_body`` before any event
    status_body: bytes = _HARMONY_ERROR
    disconnect_after: int | None = None  # close the socket after N events, no terminator
    stall_after: int | None = None  # after N events, send nothing more but keep the socket
    hang_before_headers: bool = False  # read the request, never answer

    def reasoning_tokens(self) -> tuple[str, ...]:
        r = self.reasoning
        return tuple(f" r{i}" for i in range(r)) if isinstance(r, int) else r

    def content_tokens(self) -> tuple[str, ...]:
        c = self.content
        return tuple(f" t{i}" for i in range(c)) if isinstance(c, int) else c


# --- the OpenAI wire shape ---------------------------------------------------------------------


def _chunk(
    script: Script,
    delta: dict[str, Any] | None,
    finish: str | None = None,
    usage: dict[str, Any] | None = None,
) -> bytes:
    obj: dict[str, Any] = {
        "id": "chatcmpl-fake",
        "object": "chat.completion.chunk",
        "created": 1_700_000_000,
        "model": script.model,
        "choices": []
        if delta is None
        else [{"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}],
    }
    if usage is not None:
        obj["usage"] = usage
    return orjson.dumps(obj)


def _reasoning_fields(script: Script) -> tuple[str, ...]:
    field_ = script.reasoning_field
    if field_ is None:
        return ()
    return (field_,) if isinstance(field_, str) else field_


def usage_counts(script: Script) -> tuple[int, int]:
    """Prompt and completion tokens of the scripted answer, in either wire shape."""
    completion = len(script.reasoning_tokens()) + len(script.content_tokens())
    completion += sum(len(call.arguments) + 1 for call in script.tool_calls)
    return script.prompt_tokens, completion


def _usage(script: Script) -> dict[str, Any]:
    prompt, completion = usage_counts(script)
    usage: dict[str, Any] = {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }
    if script.report_reasoning_tokens:
        usage["completion_tokens_details"] = {"reasoning_tokens": len(script.reasoning_tokens())}
    return usage


def encode_events(script: Script) -> list[bytes]:
    """The data payloads of a streamed answer, in order, [DONE] included when scripted."""
    events: list[bytes] = []
    if script.role_chunk:
        events.append(_chunk(script, {"role": "assistant", "content": ""}))
    fields = _reasoning_fields(script)
    if fields:
        for token in script.reasoning_tokens():
            events.append(_chunk(script, dict.fromkeys(fields, token)))
    for token in script.content_tokens():
        events.append(_chunk(script, {"content": token}))
    for index, call in enumerate(script.tool_calls):
        opening = {"index": index, "id": call.id, "type": "function"}
        opening["function"] = {"name": call.name, "arguments": ""}
        events.append(_chunk(script, {"tool_calls": [opening]}))
        for piece in call.arguments:
            delta = {"tool_calls": [{"index": index, "function": {"arguments": piece}}]}
            events.append(_chunk(script, delta))
    usage = _usage(script) if script.include_usage else None
    if script.finish_reason is not None:
        events.append(
            _chunk(script, {}, script.finish_reason, usage if script.usage_with_finish else None)
        )
    if usage is not None and not script.usage_with_finish:
        events.append(_chunk(script, None, usage=usage))
    if script.send_done:
        events.append(b"[DONE]")
    return events


def encode_completion(script: Script) -> bytes:
    """The same answer as one non-streamed chat.completion body."""
    message: dict[str, Any] = {"role": "assistant", "content": "".join(script.content_tokens())}
    for name in _reasoning_fields(script):
        message[name] = "".join(script.reasoning_tokens())
    if script.tool_calls:
        message["tool_calls"] = [
            {
                "id": call.id,
                "type": "function",
                "function": {"name": call.name, "arguments": "".join(call.arguments)},
            }
            for call in script.tool_calls
        ]
    choice = {"index": 0, "message": message, "finish_reason": script.finish_reason}
    return orjson.dumps(
        {
            "id": "chatcmpl-fake",
            "object": "chat.completion",
            "created": 1_700_000_000,
            "model": script.model,
            "choices": [choice],
            "usage": _usage(script),
        }
    )
