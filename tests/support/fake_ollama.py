"""The same ``Script`` in Ollama's native shape: NDJSON lines from ``POST /api/chat``.

Reasoning always goes in ``message.thinking`` (``Script.reasoning_field`` only says whether there
is any); tool calls go whole, arguments as a JSON object; the last line carries ``done``,
``done_reason`` and the token counts. ``finish_reason=None`` or ``send_done=False`` leaves the
final line out, as a stream cut short would.
"""

from __future__ import annotations

from typing import Any

import orjson

from tests.support.fake_script import Script, ToolCallScript, usage_counts

_CREATED = "2025-08-05T10:00:00.000000Z"


def _line(script: Script, message: dict[str, Any], **final: Any) -> bytes:
    obj: dict[str, Any] = {
        "model": script.model,
        "created_at": _CREATED,
        "message": {"role": "assistant", "content": "", **message},
        "done": bool(final),
        **final,
    }
    return orjson.dumps(obj) + b"\n"


def _call(call: ToolCallScript) -> dict[str, Any]:
    joined = "".join(call.arguments)
    try:
        arguments: object = orjson.loads(joined)
    except orjson.JSONDecodeError:
        arguments = joined  # a fault to script: Ollama would send it as it came
    return {"function": {"name": call.name, "arguments": arguments}}


def _final(script: Script) -> dict[str, Any]:
    final: dict[str, Any] = {"done_reason": script.finish_reason, "total_duration": 1_000_000}
    if script.include_usage:
        prompt, completion = usage_counts(script)
        final["prompt_eval_count"] = prompt
        final["eval_count"] = completion
    return final


def encode_lines(script: Script) -> list[bytes]:
    """The lines of a streamed answer, in order, each ending in a newline."""
    lines: list[bytes] = []
    if script.reasoning_field is not None:
        lines.extend(_line(script, {"thinking": t}) for t in script.reasoning_tokens())
    lines.extend(_line(script, {"content": t}) for t in script.content_tokens())
    if script.tool_calls:
        lines.append(_line(script, {"tool_calls": [_call(c) for c in script.tool_calls]}))
    if script.finish_reason is not None and script.send_done:
        lines.append(_line(script, {}, **_final(script)))
    return lines


def encode_reply(script: Script) -> bytes:
    """The same answer as one non-streamed reply."""
    message: dict[str, Any] = {"content": "".join(script.content_tokens())}
    if script.reasoning_field is not None and script.reasoning_tokens():
        message["thinking"] = "".join(script.reasoning_tokens())
    if script.tool_calls:
        message["tool_calls"] = [_call(c) for c in script.tool_calls]
    return _line(script, message, **_final(script)).rstrip(b"\n")


def encode_tags(models: tuple[str, ...]) -> bytes:
    entries = [{"name": m, "model": m, "size": 13_780_000_000, "digest": "0" * 64} for m in models]
    return orjson.dumps({"models": entries})
