"""What one streamed ``chat.completion.chunk`` means, whatever the engine's dialect.

``read_payloads`` turns SSE payloads into StreamEvents and keeps per-stream state in a
``StreamProgress``: the finish reason, usage, leaked-markup repair (in the content and in the
reasoning field), whether an answer came at all, and tool calls, which are held back until they
are whole and valid. ``StreamProgress`` is shared with the other wire protocol
(``ollama_native``). The HTTP side lives in ``openai_compat``.
"""

from __future__ import annotations

from typing import Any

import orjson

from mamori.domain.chat import (
    ContentDelta,
    FinishReason,
    ReasoningDelta,
    StreamEvent,
    ToolCallDelta,
    Usage,
)
from mamori.gateway.dialects import Dialect, read_reasoning
from mamori.gateway.harmony import HarmonyEvent, HarmonyRepair
from mamori.gateway.sse import is_done

_FINISH_REASONS: dict[str, FinishReason] = {
    **{reason.value: reason for reason in FinishReason},
    "function_call": FinishReason.TOOL_CALLS,
}
# Finish reasons with which engines report that generation itself failed.
_FAILED_FINISH_REASONS = frozenset({"error", "abort"})


class BadChunk(Exception):
    """A stream event that cannot be used; ``stream()`` names the endpoint and re-raises."""


class StreamProgress:
    __slots__ = (
        "answered",
        "done",
        "finish_reason",
        "got_bytes",
        "harmony",
        "reasoning_harmony",
        "saw_tool_call",
        "tool_calls",
        "usage",
    )

    def __init__(self) -> None:
        self.got_bytes = False
        self.done = False  # the [DONE] sentinel arrived
        self.finish_reason: str | None = None
        # Kept, not yielded: engines with continuous usage stats send it in every chunk.
        self.usage: Usage | None = None
        self.saw_tool_call = False
        self.harmony = HarmonyRepair()
        # Made on the first sign of markup in the reasoning field; most streams never need it.
        self.reasoning_harmony: HarmonyRepair | None = None
        self.answered = False  # content that is more than whitespace has been passed on
        self.tool_calls: dict[int, _ToolCallParts] = {}

    def take(self, events: list[HarmonyEvent], out: list[StreamEvent]) -> None:
        """Text after harmony repair; tool calls found in leaked markup join the native ones."""
        for event in events:
            if type(event) is ToolCallDelta:
                self.add_tool_call(event.id, event.name, event.arguments)
            else:
                if not self.answered and type(event) is ContentDelta and event.text.strip():
                    self.answered = True
                out.append(event)

    def add_tool_call(self, call_id: str | None, name: str | None, arguments: str) -> None:
        """A tool call that arrived whole (not in indexed pieces)."""
        self.saw_tool_call = True
        part = self.tool_calls.setdefault(len(self.tool_calls), _ToolCallParts())
        part.id, part.name = call_id, name
        part.arguments.append(arguments)

    def end_events(self) -> list[StreamEvent]:
        """What is held back until the stream ends: a marker cut at the very end, and the
        tool calls, now whole and validated."""
        out: list[StreamEvent] = []
        if self.reasoning_harmony is not None:
            self.take(self.reasoning_harmony.flush(), out)
        self.take(self.harmony.flush(), out)
        if self.tool_calls:
            out.extend(_finished_tool_calls(self.tool_calls))
        return out

    def lacks_answer(self) -> bool:
        """A clean stop with neither content nor a tool call: only reasoning, or nothing.

        Called after ``end_events``. A length or content-filter finish explains itself and is
        passed on as it is.
        """
        return (
            not (self.answered or self.saw_tool_call) and self.final_reason() is FinishReason.STOP
        )

    def final_reason(self) -> FinishReason:
        reason = _FINISH_REASONS.get(self.finish_reason or "stop", FinishReason.STOP)
        # Some engines say "stop" after emitting tool calls; callers key the tool loop on this.
        if reason is FinishReason.STOP and self.saw_tool_call:
            return FinishReason.TOOL_CALLS
        return reason


def read_payloads(
    dialect: Dialect, payloads: list[bytes], out: list[StreamEvent], progress: StreamProgress
) -> None:
    for payload in payloads:
        if is_done(payload):
            progress.done = True
            return  # anything after the sentinel is ignored
        try:
            chunk = orjson.loads(payload)
        except orjson.JSONDecodeError:
            raise BadChunk("a malformed stream chunk") from None
        try:
            _read_chunk(dialect, chunk, out, progress)
        except (AttributeError, TypeError, KeyError, IndexError, ValueError):
            raise BadChunk("a stream chunk of unexpected shape") from None


def _read_chunk(
    dialect: Dialect, chunk: dict[str, Any], out: list[StreamEvent], progress: StreamProgress
) -> None:
    choices = chunk.get("choices")
    if choices:
        choice = choices[0]
        delta = choice.get("delta")
        if delta:
            reasoning = read_reasoning(dialect, delta)
            if reasoning is not None:
                _take_reasoning(reasoning, out, progress)
            content = delta.get("content")
            if content and type(content) is str:
                progress.take(progress.harmony.feed(content), out)
            calls = delta.get("tool_calls")
            if calls:
                progress.saw_tool_call = True
                _read_tool_calls(calls, progress.tool_calls)
        finish = choice.get("finish_reason")
        if finish:
            if finish in _FAILED_FINISH_REASONS:
                raise BadChunk(f"finish_reason {finish!r}")
            progress.finish_reason = finish
    elif "error" in chunk:
        raise BadChunk(f"an error mid-stream: {error_text(chunk['error'])}")
    usage = chunk.get("usage")
    if usage:
        details = usage.get("completion_tokens_details")
        reasoning = details.get("reasoning_tokens") if isinstance(details, dict) else None
        progress.usage = Usage(
            prompt_tokens=int(usage.get("prompt_tokens") or 0),
            completion_tokens=int(usage.get("completion_tokens") or 0),
            reasoning_tokens=int(reasoning) if isinstance(reasoning, int) else None,
        )


def _take_reasoning(text: str, out: list[StreamEvent], progress: StreamProgress) -> None:
    """Reasoning as sent, unless it carries harmony markup: engines whose reasoning parser
    missed the ``final`` channel put the answer there, behind ``<|channel|>final<|message|>``."""
    repair = progress.reasoning_harmony
    if repair is None:
        if "<|" not in text and "<" not in text[-2:]:
            out.append(ReasoningDelta(text))
            return
        repair = progress.reasoning_harmony = HarmonyRepair(reasoning=True)
    progress.take(repair.feed(text), out)


def _read_tool_calls(calls: list[dict[str, Any]], parts: dict[int, _ToolCallParts]) -> None:
    for position, call in enumerate(calls):
        function = call.get("function") or {}
        arguments = function.get("arguments") or ""
        if type(arguments) is not str:  # a few engines send the arguments as a JSON object
            arguments = orjson.dumps(arguments).decode()
        index = call.get("index")
        part = parts.setdefault(position if index is None else int(index), _ToolCallParts())
        part.id = part.id or call.get("id") or None
        part.name = part.name or function.get("name") or None
        part.arguments.append(arguments)


class _ToolCallParts:
    """A tool call as its pieces arrive. Held back until the stream ends: arguments are only
    worth passing on once they are whole and valid JSON."""

    __slots__ = ("arguments", "id", "name")

    def __init__(self) -> None:
        self.id: str | None = None
        self.name: str | None = None
        self.arguments: list[str] = []


def _finished_tool_calls(parts: dict[int, _ToolCallParts]) -> list[StreamEvent]:
    out: list[StreamEvent] = []
    for index in sorted(parts):
        part = parts[index]
        arguments = "".join(part.arguments).strip() or "{}"
        try:
            parsed = orjson.loads(arguments)
        except orjson.JSONDecodeError:
            raise BadChunk(f"malformed JSON arguments for tool call {index}") from None
        if not isinstance(parsed, dict):
            raise BadChunk(f"tool call {index} arguments are not a JSON object")
        if not part.name:
            raise BadChunk(f"tool call {index} has no function name")
        out.append(ToolCallDelta(index=index, id=part.id, name=part.name, arguments=arguments))
    return out


def error_text(error: object) -> str:
    message = error.get("message") if isinstance(error, dict) else error
    return str(message)[:200]
