"""Ollama's native ``/api/chat``: the request body, and what each streamed NDJSON line means.

Requests: sampling goes inside ``options`` (``num_predict`` for max_tokens), the model's context
length as ``options.num_ctx`` (Ollama's small default context silently cuts tool definitions off
the prompt), reasoning effort as ``think: "low"|"medium"|"high"`` (gpt-oss ignores a boolean).
In a tool loop, reasoning goes back as ``thinking``, tool-call arguments as JSON objects, and
tool results name their tool in ``tool_name``.

Answers: ``{"message": {"thinking", "content", "tool_calls"}, "done": false}`` lines, then one
with ``done: true``, ``done_reason`` and the token counts. Both text fields go through harmony
repair; tool calls arrive whole and get an id when Ollama sends none.
"""

from __future__ import annotations

from typing import Any

import orjson

from mamori.domain.chat import ChatMessage, StreamEvent, UpstreamRequest, Usage
from mamori.errors import InvalidRequestError
from mamori.gateway.chunks import BadChunk, StreamProgress, error_text
from mamori.gateway.dialects import Dialect, sampling_fields, tool_specs
from mamori.gateway.harmony import HarmonyRepair, new_call_id

# Ollama documents these four; a developer message is instructions, which Ollama's gpt-oss
# template renders from the system message.
_ROLES = {"developer": "system"}


def build_ollama_body(dialect: Dialect, req: UpstreamRequest, stream: bool) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": req.upstream_model,
        "messages": _messages(dialect, req.messages),
        "stream": stream,
    }
    options = sampling_fields(req.sampling, max_tokens="num_predict")
    if req.context_length is not None:
        options["num_ctx"] = req.context_length
    if options:
        body["options"] = options
    # No tool_choice here: "none" is honoured by sending no tools, anything else by sending them.
    if req.tools and req.tool_choice != "none":
        body["tools"] = tool_specs(req.tools)
    if req.reasoning_effort is not None:
        body["think"] = req.reasoning_effort
    return body


def _messages(dialect: Dialect, messages: tuple[ChatMessage, ...]) -> list[dict[str, Any]]:
    # Ollama matches a tool result to its call by the tool's name, not by a call id.
    names = {call.id: call.name for m in messages for call in m.tool_calls}
    out: list[dict[str, Any]] = []
    for message in messages:
        item: dict[str, Any] = {
            "role": _ROLES.get(message.role, message.role),
            "content": message.content,
        }
        if message.reasoning and dialect.reasoning_echo_field is not None:
            item[dialect.reasoning_echo_field] = message.reasoning
        if message.tool_calls:
            item["tool_calls"] = [
                {"function": {"name": call.name, "arguments": _arguments(call.arguments)}}
                for call in message.tool_calls
            ]
        if message.role == "tool":
            tool_name = message.name or names.get(message.tool_call_id or "")
            if tool_name:
                item["tool_name"] = tool_name
        out.append(item)
    return out


def _arguments(arguments: str) -> dict[str, Any]:
    try:
        parsed = orjson.loads(arguments or "{}")
    except orjson.JSONDecodeError:
        parsed = None
    if not isinstance(parsed, dict):
        # Ollama takes arguments only as an object; a string it cannot use would be dropped.
        raise InvalidRequestError("tool call arguments must be a JSON object")
    return parsed


# --- answers -----------------------------------------------------------------------------------


def read_lines(
    dialect: Dialect, lines: list[bytes], out: list[StreamEvent], progress: StreamProgress
) -> None:
    for line in lines:
        if progress.done:
            return  # nothing follows the final line
        try:
            chunk = orjson.loads(line)
        except orjson.JSONDecodeError:
            raise BadChunk("a malformed stream line") from None
        try:
            _read_line(chunk, out, progress)
        except (AttributeError, TypeError, KeyError, IndexError, ValueError):
            raise BadChunk("a stream line of unexpected shape") from None


def _read_line(chunk: dict[str, Any], out: list[StreamEvent], progress: StreamProgress) -> None:
    if "error" in chunk:
        raise BadChunk(f"an error mid-stream: {error_text(chunk['error'])}")
    message = chunk.get("message")
    if message:
        thinking = message.get("thinking")
        if thinking and type(thinking) is str:
            repair = progress.reasoning_harmony
            if repair is None:
                repair = progress.reasoning_harmony = HarmonyRepair(reasoning=True)
            progress.take(repair.feed(thinking), out)
        content = message.get("content")
        if content and type(content) is str:
            progress.take(progress.harmony.feed(content), out)
        for call in message.get("tool_calls") or ():
            function = call["function"]
            arguments = function.get("arguments")
            if type(arguments) is not str:
                arguments = orjson.dumps({} if arguments is None else arguments).decode()
            progress.add_tool_call(call.get("id") or new_call_id(), function.get("name"), arguments)
    if chunk.get("done"):
        progress.done = True
        progress.finish_reason = chunk.get("done_reason") or "stop"
        prompt = int(chunk.get("prompt_eval_count") or 0)
        completion = int(chunk.get("eval_count") or 0)
        # No counts at all is "no usage reported": the pipeline then estimates, as it does for
        # an OpenAI-compatible engine that sends no usage chunk.
        if prompt or completion:
            progress.usage = Usage(prompt_tokens=prompt, completion_tokens=completion)


def model_names(listing: Any) -> list[str]:
    """``GET /api/tags``: ``{"models": [{"name": "gpt-oss:20b", "model": ...}, ...]}``."""
    return [str(model.get("name") or model["model"]) for model in listing["models"]]
