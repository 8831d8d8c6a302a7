"""The Responses API encoder on its own: event grouping, terminal states, hidden reasoning,
reasoning summaries."""

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
    ReasoningProgress,
    ReasoningSummary,
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
    # A fixed creation time: two encoders made a moment apart may straddle a second.
    head = ResponseHead(id="resp_t", model="m", echo=ECHO, created_at=1_795_000_000)
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


# The summary display: progress while the model thinks, the answer, then the summary before Done.
SUMMARISED: list[StreamEvent] = [
    ReasoningProgress(100, 3, done=False),
    ReasoningProgress(250, 7, done=True),
    ContentDelta("ans"),
    ContentDelta("wer"),
    ReasoningSummary("考えた"),
    Usage(5, 9, reasoning_tokens=7),
    Done(),
]


def item_events(events: list[dict[str, Any]], output_index: int) -> list[str]:
    return [e["type"] for e in events if e.get("output_index") == output_index]


def test_progress_has_no_responses_event() -> None:
    enc = encoder()
    enc.start()
    assert enc.encode(ReasoningProgress(10, 1, done=False)) == b""
    assert enc.encode(ReasoningProgress(20, 2, done=True)) == b""
    assert enc.items == []


def test_a_summary_after_the_answer_is_a_reasoning_item_of_its_own() -> None:
    events = run(encoder(), SUMMARISED)
    final = events[-1]["response"]
    Response.model_validate(final, strict=True)
    message, reasoning = final["output"]
    assert message["type"] == "message" and message["content"][0]["text"] == "answer"
    assert reasoning == {
        "id": "rs_t_1",
        "type": "reasoning",
        "status": "completed",
        "summary": [{"type": "summary_text", "text": "考えた"}],
        "content": [],
    }
    # The message is done before the summary's item is added: items never interleave.
    assert item_events(events, 1) == [
        "response.output_item.added",
        "response.reasoning_summary_part.added",
        "response.reasoning_summary_text.delta",
        "response.reasoning_summary_text.done",
        "response.reasoning_summary_part.done",
        "response.output_item.done",
    ]
    first_of_summary = next(i for i, e in enumerate(events) if e.get("output_index") == 1)
    assert events[first_of_summary - 1]["type"] == "response.output_item.done"
    assert events[first_of_summary - 1]["item"]["type"] == "message"
    added, part_added, delta, text_done, part_done, done = (
        e for e in events if e.get("output_index") == 1
    )
    assert added["item"]["summary"] == [] and added["item"]["content"] == []
    assert part_added["summary_index"] == delta["summary_index"] == part_done["summary_index"] == 0
    assert part_added["part"] == {"type": "summary_text", "text": ""}
    assert delta["delta"] == text_done["text"] == "考えた"
    assert part_done["part"] == {"type": "summary_text", "text": "考えた"}
    assert done["item"] == reasoning
    assert final["usage"]["output_tokens_details"] == {"reasoning_tokens": 7}
    assert [e["sequence_number"] for e in events] == list(range(len(events)))
    # Progress left no trace: no reasoning text events, no empty reasoning item.
    assert not [e for e in events if "reasoning_text" in e["type"]]


def test_a_non_streamed_summary_is_the_same_item() -> None:
    streamed = run(encoder(), SUMMARISED)[-1]["response"]
    quiet = encoder(stream=False)
    assert all(quiet.encode(e) == b"" for e in SUMMARISED)
    whole = quiet.final_json()
    Response.model_validate(whole, strict=True)
    assert whole["output"] == streamed["output"]


def test_a_summary_joins_the_reasoning_item_still_open() -> None:
    events = run(encoder(), [ReasoningDelta("think"), ReasoningSummary("要約"), ContentDelta("a")])
    final = events[-1]["response"]
    Response.model_validate(final, strict=True)
    reasoning, message = final["output"]
    assert reasoning["content"] == [{"type": "reasoning_text", "text": "think"}]
    assert reasoning["summary"] == [{"type": "summary_text", "text": "要約"}]
    assert message["content"][0]["text"] == "a"
    assert item_events(events, 0)[-3:] == [
        "response.reasoning_text.done",
        "response.content_part.done",
        "response.output_item.done",
    ]
    assert [e["sequence_number"] for e in events] == list(range(len(events)))


def test_a_summary_after_a_closed_reasoning_item_gets_a_new_one() -> None:
    answer: list[StreamEvent] = [
        ReasoningDelta("think"),
        ContentDelta("a"),
        ReasoningSummary("要約"),
        Done(),
    ]
    events = run(encoder(), answer)
    final = events[-1]["response"]
    Response.model_validate(final, strict=True)
    reasoning, message, summary = final["output"]
    assert message["content"][0]["text"] == "a"
    assert (reasoning["summary"], summary["content"]) == ([], [])
    assert reasoning["content"] == [{"type": "reasoning_text", "text": "think"}]
    assert summary["summary"] == [{"type": "summary_text", "text": "要約"}]
    assert [i["id"] for i in final["output"]] == ["rs_t_0", "msg_t_1", "rs_t_2"]


def test_hidden_reasoning_drops_the_summary_too() -> None:
    events = run(encoder(show_reasoning=False), SUMMARISED)
    assert [i["type"] for i in events[-1]["response"]["output"]] == ["message"]
    assert not [e for e in events if "reasoning" in e["type"]]


def test_a_summary_amid_the_answer_waits_for_the_message_to_close() -> None:
    answer: list[StreamEvent] = [
        ContentDelta("ans"),
        ReasoningSummary("要約"),
        ContentDelta("wer"),
        Done(),
    ]
    events = run(encoder(), answer)
    final = events[-1]["response"]
    Response.model_validate(final, strict=True)
    message, summary = final["output"]
    assert message["content"][0]["text"] == "answer"
    assert summary["summary"] == [{"type": "summary_text", "text": "要約"}]
    assert item_events(events, 0)[-1] == "response.output_item.done"
    assert [e["sequence_number"] for e in events] == list(range(len(events)))
    quiet = encoder(stream=False)
    for event in answer:
        quiet.encode(event)
    assert quiet.final_json()["output"] == final["output"]


def test_a_failure_still_delivers_a_summary_that_came() -> None:
    enc = encoder()
    out = enc.start() + enc.encode(ContentDelta("par")) + enc.encode(ReasoningSummary("要約"))
    events = parse(out + enc.fail("engine_timeout", "too slow"))
    failed = events[-1]["response"]
    assert [(i["type"], i["status"]) for i in failed["output"]] == [
        ("message", "incomplete"),
        ("reasoning", "completed"),
    ]
    assert failed["output"][1]["summary"][0]["text"] == "要約"
