"""/v1/responses through the official OpenAI SDK and raw HTTP, against the scripted engine.

Every streamed event and every response object is also validated strictly against the SDK's own
pydantic models: the SDK itself parses leniently, so only strict validation shows a missing or
misnamed field.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
import openai
import pytest
from openai.types.responses import Response, ResponseStreamEvent
from pydantic import TypeAdapter

from mamori.domain.audit import TurnStatus
from mamori.web.i18n import translate
from tests.support.fake_upstream import Script, ToolCallScript
from tests.web.conftest import DEAD_MODEL, MODEL, Live

STREAM_EVENT: TypeAdapter[Any] = TypeAdapter(ResponseStreamEvent)
WEATHER_TOOL: Any = {
    "type": "function",
    "name": "get_weather",
    "description": "今日の天気",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
}
CALL = ToolCallScript(id="call_1", name="get_weather", arguments=('{"ci', 'ty": "東', '京"}'))


def sdk(live: Live, key: str) -> openai.AsyncOpenAI:
    return openai.AsyncOpenAI(base_url=f"{live.base_url}/v1", api_key=key, max_retries=0)


async def raw_events(live: Live, key: str, body: dict[str, Any]) -> list[dict[str, Any]]:
    """The streamed events as sent, each checked against the SDK's model of its type."""
    events: list[dict[str, Any]] = []
    name = None
    async with (
        httpx.AsyncClient(base_url=live.base_url, timeout=10) as client,
        client.stream(
            "POST",
            "/v1/responses",
            headers={"authorization": f"Bearer {key}"},
            json={"model": MODEL, "stream": True, **body},
        ) as response,
    ):
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        async for line in response.aiter_lines():
            if line.startswith("event: "):
                name = line.removeprefix("event: ")
            elif line.startswith("data: "):
                data = json.loads(line.removeprefix("data: "))
                assert data["type"] == name
                STREAM_EVENT.validate_python(data, strict=True)
                events.append(data)
    return events


def tool_loop_script(body: dict[str, Any]) -> Script:
    """Call the tool first; answer once the tool's result is in the conversation."""
    if body["messages"][-1]["role"] == "tool":
        return Script(reasoning=("done",), content=("東京は", "晴れです"))
    return Script(
        reasoning=("need", " weather"), content=(), tool_calls=(CALL,), finish_reason="tool_calls"
    )


async def test_non_streamed_answer_has_reasoning_message_and_usage(live: Live) -> None:
    live.script = Script(reasoning=("hm", "m"), content=("4", "2"), report_reasoning_tokens=True)
    client = sdk(live, await live.api_key())
    result = await client.responses.create(
        model=MODEL,
        instructions="短く答えてください。",
        input="答えは？",
        reasoning={"effort": "high"},
        max_output_tokens=256,
        temperature=0.7,
        top_p=0.9,
    )
    Response.model_validate(result.model_dump(), strict=True)
    assert result.id.startswith("resp_") and result.object == "response"
    assert result.status == "completed" and result.error is None
    reasoning, message = result.output
    assert reasoning.type == "reasoning" and reasoning.summary == []
    assert [(c.type, c.text) for c in reasoning.content or []] == [("reasoning_text", "hmm")]
    assert message.type == "message" and message.role == "assistant"
    assert [(c.type, c.text) for c in message.content] == [("output_text", "42")]  # type: ignore[union-attr]
    assert result.output_text == "42"
    assert result.usage is not None
    assert (result.usage.input_tokens, result.usage.output_tokens) == (12, 4)
    assert result.usage.total_tokens == 16
    assert result.usage.output_tokens_details.reasoning_tokens == 2
    assert (result.instructions, result.max_output_tokens) == ("短く答えてください。", 256)

    sent = live.upstream.requests[-1].body
    assert sent is not None
    assert sent["messages"] == [
        {"role": "system", "content": "短く答えてください。"},
        {"role": "user", "content": "答えは？"},
    ]
    assert sent["reasoning_effort"] == "high"
    assert (sent["max_tokens"], sent["temperature"], sent["top_p"]) == (256, 0.7, 0.9)


async def test_input_items_become_the_conversation_in_order(live: Live) -> None:
    items: list[Any] = [
        {"role": "developer", "content": "開発者メッセージ"},
        {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "一"}]},
        {"role": "assistant", "content": [{"type": "output_text", "text": "二"}]},
        {"role": "user", "content": [{"type": "input_text", "text": "三"}]},
    ]
    client = sdk(live, await live.api_key())
    await client.responses.create(model=MODEL, instructions="指示", input=items)
    sent = live.upstream.requests[-1].body
    assert sent is not None
    assert sent["messages"] == [
        {"role": "system", "content": "指示"},
        {"role": "developer", "content": "開発者メッセージ"},
        {"role": "user", "content": "一"},
        {"role": "assistant", "content": "二"},
        {"role": "user", "content": "三"},
    ]


async def test_sdk_stream_helper_sees_every_event_in_order(live: Live) -> None:
    live.script = Script(reasoning=("Let", " me"), content=("こん", "にちは"))
    client = sdk(live, await live.api_key())
    kinds: list[str] = []
    numbers: list[int] = []
    async with client.responses.stream(model=MODEL, input="挨拶して") as stream:
        async for event in stream:
            kinds.append(event.type)
            numbers.append(event.sequence_number)
        final = await stream.get_final_response()
    reasoning_item = [
        "response.output_item.added",
        "response.content_part.added",
        "response.reasoning_text.delta",
        "response.reasoning_text.delta",
        "response.reasoning_text.done",
        "response.content_part.done",
        "response.output_item.done",
    ]
    message_item = [s.replace("reasoning_text", "output_text") for s in reasoning_item]
    assert kinds == [
        "response.created",
        "response.in_progress",
        *reasoning_item,
        *message_item,
        "response.completed",
    ]
    assert numbers == list(range(len(kinds)))
    assert final.output_text == "こんにちは"
    assert final.output[0].content[0].text == "Let me"  # type: ignore[union-attr,index]
    assert final.usage is not None and final.usage.output_tokens == 4


async def test_raw_stream_events_match_the_sdk_models_exactly(live: Live) -> None:
    live.script = Script(reasoning=("r",), content=("a", "b"))
    events = await raw_events(live, await live.api_key(), {"input": "x"})
    created, completed = events[0]["response"], events[-1]["response"]
    assert created["status"] == "in_progress" and created["output"] == []
    assert completed["status"] == "completed" and completed["id"] == created["id"]
    done = [e["item"] for e in events if e["type"] == "response.output_item.done"]
    assert done == completed["output"]
    text = [e for e in events if e["type"] == "response.output_text.delta"]
    assert {e["item_id"] for e in text} == {done[1]["id"]}
    assert [e["delta"] for e in text] == ["a", "b"]


async def test_tool_call_round_trip(live: Live) -> None:
    live.script_by_request = tool_loop_script
    client = sdk(live, await live.api_key())
    first = await client.responses.create(
        model=MODEL, input="東京の天気は？", tools=[WEATHER_TOOL], tool_choice="auto"
    )
    assert [item.type for item in first.output] == ["reasoning", "function_call"]
    call = first.output[1]
    assert call.type == "function_call"
    assert (call.call_id, call.name) == ("call_1", "get_weather")
    assert json.loads(call.arguments) == {"city": "東京"}
    sent = live.upstream.requests[-1].body
    assert sent is not None
    assert sent["tools"][0]["function"]["name"] == "get_weather"
    assert sent["tool_choice"] == "auto"

    # The client hands the output items back as they came, as OpenAI's guides tell it to.
    items: list[Any] = [
        {"role": "user", "content": "東京の天気は？"},
        *(item.model_dump(exclude_none=True) for item in first.output),
        {"type": "function_call_output", "call_id": "call_1", "output": '{"weather": "晴れ"}'},
    ]
    second = await client.responses.create(model=MODEL, tools=[WEATHER_TOOL], input=items)
    assert second.output_text == "東京は晴れです"
    sent = live.upstream.requests[-1].body
    assert sent is not None
    assistant, tool = sent["messages"][-2:]
    assert assistant["tool_calls"][0]["function"]["arguments"] == '{"city": "東京"}'
    assert assistant["tool_calls"][0]["id"] == "call_1"
    # Within the tool loop the chain of thought goes back, in vLLM's field.
    assert assistant["reasoning"] == "need weather"
    assert tool == {"role": "tool", "content": '{"weather": "晴れ"}', "tool_call_id": "call_1"}


async def test_streamed_tool_call_has_argument_events(live: Live) -> None:
    live.script_by_request = tool_loop_script
    events = await raw_events(
        live,
        await live.api_key(),
        {
            "input": "東京の天気は？",
            "tools": [WEATHER_TOOL],
            "tool_choice": {"type": "function", "name": "get_weather"},
        },
    )
    pieces = [e["delta"] for e in events if e["type"] == "response.function_call_arguments.delta"]
    [done] = [e for e in events if e["type"] == "response.function_call_arguments.done"]
    assert json.loads("".join(pieces)) == json.loads(done["arguments"]) == {"city": "東京"}
    assert events[-1]["response"]["output"][-1]["call_id"] == "call_1"
    sent = live.upstream.requests[-1].body
    assert sent is not None
    assert sent["tool_choice"] == {"type": "function", "function": {"name": "get_weather"}}


async def test_the_turn_is_audited_like_a_chat_completion(live: Live) -> None:
    username = await live.new_user()
    client = sdk(live, await live.api_key(username))
    result = await client.responses.create(model=MODEL, input="x")
    user = await live.user_row(username)
    [record] = await live.audit_when_written(user.id)
    assert record.turn_id == result.id.removeprefix("resp_")
    assert record.status is TurnStatus.OK
    assert (record.model, record.endpoint, record.face) == (MODEL, "gpu1", "api")
    assert record.api_key_id is not None
    assert (record.prompt_tokens, record.completion_tokens) == (12, 3)
    [usage] = await live.usage_rows(user.id)
    assert usage.completion_tokens == 3


async def test_token_limit_makes_an_incomplete_response(live: Live) -> None:
    live.script = Script(content=("a", "b"), finish_reason="length")
    key = await live.api_key()
    result = await sdk(live, key).responses.create(model=MODEL, input="x", max_output_tokens=2)
    assert result.status == "incomplete"
    assert result.incomplete_details is not None
    assert result.incomplete_details.reason == "max_output_tokens"
    assert result.output[0].status == "incomplete"  # type: ignore[union-attr]
    events = await raw_events(live, key, {"input": "x"})
    assert events[-1]["type"] == "response.incomplete"
    assert events[-1]["response"]["incomplete_details"] == {"reason": "max_output_tokens"}


async def test_engine_dying_mid_stream_ends_in_response_failed(live: Live) -> None:
    live.script = Script(content=20, disconnect_after=5)
    username = await live.new_user()
    key = await live.api_key(username)
    async with asyncio.timeout(10):
        events = await raw_events(live, key, {"input": "x"})
    error, failed = events[-2:]
    assert error["type"] == "error" and error["code"] == "engine_stream_broken"
    assert failed["type"] == "response.failed"
    response = failed["response"]
    assert response["status"] == "failed"
    assert response["error"] == {
        "code": "server_error",
        "message": translate("en", "error.engine_stream_broken"),
    }
    [message] = response["output"]
    assert message["status"] == "incomplete"
    assert message["content"][0]["text"].startswith(" t0")
    user = await live.user_row(username)
    [record] = await live.audit_when_written(user.id)
    assert (record.status, record.error_code) == (TurnStatus.INCOMPLETE, "engine_stream_broken")


async def test_engine_down_before_the_first_byte_is_an_http_error(live: Live) -> None:
    key = await live.api_key()
    for stream in (False, True):
        with pytest.raises(openai.APIStatusError) as caught:
            await sdk(live, key).responses.create(model=DEAD_MODEL, input="x", stream=stream)
        assert caught.value.status_code == 503
        error = caught.value.response.json()["error"]
        assert (error["code"], error["type"]) == ("engine_unavailable", "api_error")
        assert "127.0.0.1" not in error["message"]


async def test_a_key_is_required(live: Live) -> None:
    body = {"model": MODEL, "input": "x"}
    async with httpx.AsyncClient(base_url=live.base_url) as client:
        anonymous = await client.post("/v1/responses", json=body)
        wrong = await client.post(
            "/v1/responses", json=body, headers={"authorization": "Bearer mk-nope"}
        )
    for response in (anonymous, wrong):
        assert response.status_code == 401
        assert response.json()["error"]["type"] == "authentication_error"


@pytest.mark.parametrize(
    ("extra", "named"),
    [
        ({"previous_response_id": "resp_123"}, "previous_response_id"),
        ({"conversation": "conv_1"}, "conversation"),
        ({"store": True}, "store"),
        ({"background": True}, "background"),
        ({"tools": [{"type": "web_search"}]}, "web_search"),
        ({"tool_choice": {"type": "file_search"}}, "tool_choice"),
        ({"text": {"format": {"type": "json_schema", "name": "x", "schema": {}}}}, "json_schema"),
        ({"input": [{"type": "item_reference", "id": "msg_1"}]}, "item_reference"),
        (
            {"input": [{"role": "user", "content": [{"type": "input_image", "image_url": "x"}]}]},
            "input_image",
        ),
    ],
)
async def test_unsupported_features_are_refused_by_name(
    live: Live, extra: dict[str, Any], named: str
) -> None:
    key = await live.api_key()
    before = len(live.upstream.requests)
    with pytest.raises(openai.BadRequestError) as caught:
        await sdk(live, key).responses.create(model=MODEL, **{"input": "x", **extra})
    error = caught.value.response.json()["error"]
    assert (error["code"], error["type"]) == ("unsupported_feature", "invalid_request_error")
    assert named in error["message"]
    assert len(live.upstream.requests) == before


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (b"{not json", 400, "invalid_request"),
        (b'{"model": "gpt-oss-120b"}', 400, "invalid_request"),
        (b'{"model": "gpt-oss-120b", "input": []}', 400, "invalid_request"),
        (b'{"model": "gpt-oss-120b", "input": "x", "reasoning": {"effort": "max"}}', 400, None),
        (b'{"model": "gpt-oss-120b", "input": "x", "temperature": 3}', 400, None),
        (b'{"model": "nope", "input": "x"}', 404, "model_not_found"),
    ],
)
async def test_bad_requests_get_clear_errors(
    live: Live, body: bytes, status: int, code: str | None
) -> None:
    key = await live.api_key()
    async with httpx.AsyncClient(base_url=live.base_url) as client:
        response = await client.post(
            "/v1/responses",
            headers={"authorization": f"Bearer {key}", "content-type": "application/json"},
            content=body,
        )
    assert response.status_code == status
    assert response.json()["error"]["code"] == (code or "invalid_request")
