"""The Responses API encoder on its own: event grouping, terminal states, hidden reasoning."""

from __future__ import annotations

from typing import Any

import orjson
import pytest
from openai.types.responses import Response, ResponseStreamEvent
from pydantic import TypeAdapter

from mamori.domain.chat import (
    ContentDelta,
    Done,
    FinishReason,
    ReasoningDelta,
    StreamEvent,
    ToolCallDelta,
    Usage,
)
from mamori.web.responses_stream import ResponseEncoder, ResponseHead

STREAM_EVENT: TypeAdapter[Any] = TypeAdapter(ResponseStreamEvent)
ECHO: dict[str, object] = {"tools": [], "tool_choice": "auto", "parallel_tool_calls": True}
ANSWER: list[StreamEvent] = [
    ReasoningDelta("think"),
    ReasoningDelta("ing"),
    ContentDelta("ans"),
    ContentDelta("wer"),
    ToolCallDelta(0, "call_a", "f", '{"x":'),
    ToolCallDelta(0, None, None, "1}"),
    ToolCallDelta(1, "call_b", "g", "{}"),
    Usage(5, 9, reasoning_tokens=2),
    Done(FinishReason.TOOL_CALLS),
]


def encoder(*, show_reasoning: bool = True, stream: bool = True) -> ResponseEncoder:
    head = ResponseHead(id="resp_t", model="m", echo=ECHO)
    return ResponseEncoder(head, show_reasoning=show_reasoning, stream=stream)


def parse(stream: bytes) -> list[dict[str, Any]]:
    """Split SSE bytes into event payloads, checking each strictly against the SDK's models."""
    events = []
    for block in stream.decode().split("\n\n"):
        if not block:
            continue
        name_line, data_line = block.split("\n")
        data = orjson.loads(data_line.removeprefix("data: "))
        assert name_line == f"event: {data['type']}"
        STREAM_EVENT.validate_python(data, strict=True)
        events.append(data)
    return events


def run(enc: ResponseEncoder, events: list[StreamEvent]) -> list[dict[str, Any]]:
    out = enc.start() + b"".join(enc.encode(e) for e in events) + enc.finish()
    return parse(out)


def test_items_follow_the_kind_of_delta_and_calls_split_by_index() -> None:
    events = run(encoder(), ANSWER)
    added = [e["item"] for e in events if e["type"] == "response.output_item.added"]
    assert [(i["type"], i["status"]) for i in added] == [
        ("reasoning", "in_progress"),
        ("message", "in_progress"),
        ("function_call", "in_progress"),
        ("function_call", "in_progress"),
    ]
    final = events[-1]["response"]
    Response.model_validate(final, strict=True)
    reasoning, message, call_a, call_b = final["output"]
    assert reasoning["content"] == [{"type": "reasoning_text", "text": "thinking"}]
    assert message["content"][0]["text"] == "answer"
    assert (call_a["call_id"], call_a["arguments"]) == ("call_a", '{"x":1}')
    assert (call_b["call_id"], call_b["name"]) == ("call_b", "g")
    assert final["usage"]["output_tokens_details"] == {"reasoning_tokens": 2}
    assert [e["sequence_number"] for e in events] == list(range(len(events)))


def test_the_non_streamed_object_is_the_streams_final_object() -> None:
    streamed = run(encoder(), ANSWER)[-1]["response"]
    quiet = encoder(stream=False)
    assert quiet.start() == b""
    assert all(quiet.encode(e) == b"" for e in ANSWER)
    whole = quiet.final_json()
    Response.model_validate(whole, strict=True)
    assert {k: v for k, v in whole.items() if k != "completed_at"} == {
        k: v for k, v in streamed.items() if k != "completed_at"
    }


def test_hidden_reasoning_leaves_no_reasoning_item() -> None:
    events = run(encoder(show_reasoning=False), ANSWER)
    assert not [e for e in events if "reasoning_text" in e["type"]]
    assert [i["type"] for i in events[-1]["response"]["output"]] == [
        "message",
        "function_call",
        "function_call",
    ]


@pytest.mark.parametrize(
    ("reason", "detail"),
    [(FinishReason.LENGTH, "max_output_tokens"), (FinishReason.CONTENT_FILTER, "content_filter")],
)
def test_a_cut_answer_is_incomplete_with_the_reason(reason: FinishReason, detail: str) -> None:
    events = run(encoder(), [ContentDelta("a"), Done(reason)])
    terminal = events[-1]
    assert terminal["type"] == "response.incomplete"
    assert terminal["response"]["incomplete_details"] == {"reason": detail}
    assert terminal["response"]["output"][0]["status"] == "incomplete"
    assert "completed_at" not in terminal["response"]


def test_failure_closes_the_open_item_then_fails_the_response() -> None:
    enc = encoder()
    out = enc.start() + enc.encode(ContentDelta("par")) + enc.fail("engine_timeout", "too slow")
    events = parse(out)
    assert [e["type"] for e in events[-4:]] == [
        "response.content_part.done",
        "response.output_item.done",
        "error",
        "response.failed",
    ]
    assert events[-2]["code"] == "engine_timeout"
    failed = events[-1]["response"]
    assert failed["status"] == "failed"
    assert failed["error"] == {"code": "server_error", "message": "too slow"}
    assert failed["output"][0]["status"] == "incomplete"
    assert failed["output"][0]["content"][0]["text"] == "par"


def test_a_response_without_output_completes_empty() -> None:
    events = run(encoder(), [Done()])
    assert [e["type"] for e in events] == [
        "response.created",
        "response.in_progress",
        "response.completed",
    ]
    assert events[-1]["response"]["output"] == []
    assert events[-1]["response"]["usage"] is None
