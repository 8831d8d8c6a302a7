"""A turn's StreamEvents as a Responses API answer: SSE events while streaming, and the final
``response`` object, both from one record of the output items.

The pipeline yields flat deltas; the Responses API wants them grouped into output items
(``reasoning``, ``message``, ``function_call``), each opened, filled and closed with its own
events. ``ResponseEncoder`` keeps that grouping: a new kind of delta closes the open item and
opens the next. A reasoning summary (the summary display) comes whole, usually after the answer:
it joins the reasoning item still open, or else becomes a reasoning item of its own with no
content, placed after the item open at the time so that a message is never cut in two.

Text deltas run once per token, so their events are a pre-built byte prefix per item plus the
sequence number and the text; the other events are built from dicts, a few per item.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Literal

import orjson

from mamori.domain.chat import (
    ContentDelta,
    Done,
    FinishReason,
    ReasoningDelta,
    ReasoningProgress,
    ReasoningSummary,
    StreamEvent,
    ToolCallDelta,
    Usage,
)

ItemKind = Literal["reasoning", "message", "function_call"]
_ID_PREFIX: dict[ItemKind, str] = {"reasoning": "rs", "message": "msg", "function_call": "fc"}
_DELTA_EVENT: dict[ItemKind, bytes] = {
    "reasoning": b"response.reasoning_text.delta",
    "message": b"response.output_text.delta",
    "function_call": b"response.function_call_arguments.delta",
}
_INCOMPLETE_REASONS = {
    FinishReason.LENGTH: "max_output_tokens",
    FinishReason.CONTENT_FILTER: "content_filter",
}


@dataclass(frozen=True, slots=True)
class ResponseHead:
    """What every response object of one answer repeats."""

    id: str
    model: str
    echo: dict[str, object]  # the request's settings (instructions, tools, ...)
    created_at: int = field(default_factory=lambda: int(time.time()))


@dataclass(slots=True)
class _Item:
    kind: ItemKind
    id: str
    index: int
    delta_prefix: bytes
    parts: list[str] = field(default_factory=list)
    status: str = "in_progress"
    call_id: str = ""
    name: str = ""
    tool_index: int = -1
    summary: list[str] = field(default_factory=list)
    # False for a reasoning item that carries only a summary: it has no content part at all.
    with_content: bool = True

    @property
    def text(self) -> str:
        return "".join(self.parts)

    def part_json(self, text: str) -> dict[str, object]:
        if self.kind == "reasoning":
            return {"type": "reasoning_text", "text": text}
        return {"type": "output_text", "text": text, "annotations": [], "logprobs": []}

    def as_json(self, *, filled: bool = True) -> dict[str, object]:
        if self.kind == "function_call":
            return {
                "id": self.id,
                "type": "function_call",
                "status": self.status,
                "call_id": self.call_id,
                "name": self.name,
                "arguments": self.text if filled else "",
            }
        content = [self.part_json(self.text)] if filled and self.with_content else []
        if self.kind == "reasoning":
            summary = [_summary_part(text) for text in self.summary] if filled else []
            return {
                "id": self.id,
                "type": "reasoning",
                "status": self.status,
                "summary": summary,
                "content": content,
            }
        return {
            "id": self.id,
            "type": "message",
            "status": self.status,
            "role": "assistant",
            "content": content,
        }


class ResponseEncoder:
    """Turns the StreamEvents of one turn into Responses API events and the final object.

    With ``stream=False`` it only records the items, for ``final_json()``. Whether reasoning
    items appear at all is the caller's decision (``show_reasoning``).
    """

    def __init__(self, head: ResponseHead, *, show_reasoning: bool, stream: bool = True) -> None:
        self.head = head
        self.show_reasoning = show_reasoning
        self.stream = stream
        self.items: list[_Item] = []
        self.usage: Usage | None = None
        self.finish_reason = FinishReason.STOP
        self._open: _Item | None = None
        # Summaries that came while a message or call was open, for an item after it.
        self._summaries: list[str] = []
        self._seq = 0

    # --- the stream, in order --------------------------------------------------------------

    def start(self) -> bytes:
        created = self.response_json("in_progress")
        return self._event("response.created", {"response": created}) + self._event(
            "response.in_progress", {"response": created}
        )

    def encode(self, event: StreamEvent) -> bytes:
        """The events for one pipeline event (often none, or a single delta)."""
        match event:
            case ContentDelta(text=text):
                return self._delta("message", text)
            case ReasoningDelta(text=text):
                return self._delta("reasoning", text) if self.show_reasoning else b""
            case ReasoningSummary(text=text):
                return self._summary(text) if self.show_reasoning else b""
            case ReasoningProgress():
                # The Responses API has no event for "still thinking": such clients just wait.
                return b""
            case ToolCallDelta():
                return self._tool_call(event)
            case Usage():
                self.usage = event
            case Done(finish_reason=reason):
                self.finish_reason = reason
        return b""

    @property
    def outcome(self) -> Literal["completed", "incomplete"]:
        """How the answer ended, once the pipeline said Done: at the token limit or a content
        filter it is ``incomplete``."""
        return "incomplete" if self.finish_reason in _INCOMPLETE_REASONS else "completed"

    def finish(self) -> bytes:
        """The terminal event after a clean end: ``response.completed`` or ``.incomplete``."""
        status = self.outcome
        out = self._close(status)
        return out + self._event(f"response.{status}", {"response": self.response_json(status)})

    def final_json(self) -> dict[str, object]:
        """The whole response object of a non-streamed answer."""
        self._close(self.outcome)
        return self.response_json(self.outcome)

    def fail(self, code: str, message: str) -> bytes:
        """The end of a stream the engine broke off: an ``error`` event with mamori's code, then
        ``response.failed`` (whose ``error.code`` must be one of OpenAI's, hence server_error)."""
        out = self._close("incomplete")
        out += self._event("error", {"code": code, "message": message, "param": None})
        error: dict[str, object] = {"code": "server_error", "message": message}
        failed = self.response_json("failed", error=error)
        return out + self._event("response.failed", {"response": failed})

    # --- the response object ---------------------------------------------------------------

    def response_json(
        self, status: str, *, error: dict[str, object] | None = None
    ) -> dict[str, object]:
        reason = _INCOMPLETE_REASONS.get(self.finish_reason) if status == "incomplete" else None
        body: dict[str, object] = {
            "id": self.head.id,
            "object": "response",
            "created_at": self.head.created_at,
            "status": status,
            "model": self.head.model,
            "output": [item.as_json() for item in self.items] if status != "in_progress" else [],
            "error": error,
            "incomplete_details": {"reason": reason} if reason else None,
            "usage": _usage_json(self.usage) if status != "in_progress" else None,
            **self.head.echo,
        }
        if status == "completed":
            body["completed_at"] = int(time.time())
        return body

    # --- items -----------------------------------------------------------------------------

    def _delta(self, kind: ItemKind, text: str) -> bytes:
        item = self._open
        out = b""
        if item is None or item.kind != kind:
            out = self._close("completed") + self._open_item(kind)
            item = self._open
            assert item is not None
        item.parts.append(text)
        if not self.stream:
            return b""
        return (
            out
            + item.delta_prefix
            + str(self._next_seq()).encode()
            + b',"delta":'
            + orjson.dumps(text)
            + b"}\n\n"
        )

    def _tool_call(self, event: ToolCallDelta) -> bytes:
        item = self._open
        if item is not None and item.kind == "function_call" and item.tool_index == event.index:
            return self._delta("function_call", event.arguments)
        out = self._close("completed")
        # The gateway hands over each call whole, with its id and name in the first delta.
        call_id = event.id or f"call_{self.head.id}_{len(self.items)}"
        out += self._open_item("function_call", call_id=call_id, name=event.name or "")
        assert self._open is not None
        self._open.tool_index = event.index
        return out + self._delta("function_call", event.arguments)

    def _summary(self, text: str) -> bytes:
        item = self._open
        if item is not None and item.kind == "reasoning":
            # Raw reasoning still streaming: OpenAI puts summary and content in the same item.
            return self._summary_events(item, text)
        # A closed item cannot take a summary (its output_item.done was final), so the summary
        # gets an item of its own: now, or once the open message or call is done.
        self._summaries.append(text)
        return b"" if item is not None else self._summary_item()

    def _summary_item(self) -> bytes:
        texts, self._summaries = self._summaries, []
        out = self._open_item("reasoning", with_content=False)
        item = self._open
        assert item is not None
        for text in texts:
            out += self._summary_events(item, text)
        return out + self._close_item("completed")

    def _summary_events(self, item: _Item, text: str) -> bytes:
        index = len(item.summary)
        item.summary.append(text)
        where = {"item_id": item.id, "output_index": item.index, "summary_index": index}
        # The summary comes whole, so its part opens, fills and closes at once.
        return (
            self._event(
                "response.reasoning_summary_part.added", {**where, "part": _summary_part("")}
            )
            + self._event("response.reasoning_summary_text.delta", {**where, "delta": text})
            + self._event("response.reasoning_summary_text.done", {**where, "text": text})
            + self._event(
                "response.reasoning_summary_part.done", {**where, "part": _summary_part(text)}
            )
        )

    def _open_item(
        self, kind: ItemKind, *, call_id: str = "", name: str = "", with_content: bool = True
    ) -> bytes:
        index = len(self.items)
        item_id = f"{_ID_PREFIX[kind]}_{self.head.id.removeprefix('resp_')}_{index}"
        event = _DELTA_EVENT[kind]
        fixed: dict[str, object] = {"item_id": item_id, "output_index": index}
        if kind != "function_call":
            fixed["content_index"] = 0
        if kind == "message":
            fixed["logprobs"] = []
        head = orjson.dumps({"type": event.decode(), **fixed})[:-1]
        prefix = b"event: " + event + b"\ndata: " + head + b',"sequence_number":'
        item = _Item(
            kind, item_id, index, prefix, call_id=call_id, name=name, with_content=with_content
        )
        self.items.append(item)
        self._open = item
        added = {"output_index": index, "item": item.as_json(filled=False)}
        out = self._event("response.output_item.added", added)
        if kind != "function_call" and with_content:
            where = {"item_id": item_id, "output_index": index, "content_index": 0}
            out += self._event("response.content_part.added", {**where, "part": item.part_json("")})
        return out

    def _close(self, status: str) -> bytes:
        out = self._close_item(status)
        return out + self._summary_item() if self._summaries else out

    def _close_item(self, status: str) -> bytes:
        item = self._open
        if item is None:
            return b""
        self._open = None
        item.status = status
        if not self.stream:
            return b""
        where: dict[str, object] = {"item_id": item.id, "output_index": item.index}
        text = item.text
        if item.kind == "function_call":
            out = self._event("response.function_call_arguments.done", {**where, "arguments": text})
        elif not item.with_content:
            out = b""
        else:
            where["content_index"] = 0
            done = "response.reasoning_text.done"
            extra: dict[str, object] = {}
            if item.kind == "message":
                done, extra = "response.output_text.done", {"logprobs": []}
            out = self._event(done, {**where, **extra, "text": text})
            part = item.part_json(text)
            out += self._event("response.content_part.done", {**where, "part": part})
        item_json = item.as_json()
        return out + self._event(
            "response.output_item.done", {"output_index": item.index, "item": item_json}
        )

    def _event(self, name: str, payload: dict[str, object]) -> bytes:
        if not self.stream:
            return b""
        event = {"type": name, "sequence_number": self._next_seq(), **payload}
        return b"event: " + name.encode() + b"\ndata: " + orjson.dumps(event) + b"\n\n"

    def _next_seq(self) -> int:
        seq = self._seq
        self._seq += 1
        return seq


def _summary_part(text: str) -> dict[str, object]:
    return {"type": "summary_text", "text": text}


def _usage_json(usage: Usage | None) -> dict[str, object] | None:
    if usage is None:
        return None
    # The details are required by OpenAI's schema. No engine reports cache figures through the
    # chat API mamori speaks, and few report reasoning tokens: unknown counts are 0, as
    # OpenAI-compatible engines themselves report them.
    return {
        "input_tokens": usage.prompt_tokens,
        "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
        "output_tokens": usage.completion_tokens,
        "output_tokens_details": {"reasoning_tokens": usage.reasoning_tokens or 0},
        "total_tokens": usage.total_tokens,
    }
