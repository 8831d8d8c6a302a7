"""Tool calling through /v1 with the official SDK: tools reach the engine in OpenAI's shape,
streamed argument pieces come back whole, and a two-step tool loop completes."""

from __future__ import annotations

import json
from typing import Any

import openai

from tests.support.fake_upstream import Script, ToolCallScript
from tests.web.conftest import MODEL, Live

WEATHER_TOOL: Any = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "今日の天気",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
}
CALL = ToolCallScript(id="call_1", name="get_weather", arguments=('{"ci', 'ty": "東', '京"}'))


def engine_script(body: dict[str, Any]) -> Script:
    """Call the tool first; answer once the tool's result is in the conversation."""
    if body["messages"][-1]["role"] == "tool":
        return Script(reasoning=("done",), content=("東京は", "晴れです"))
    return Script(
        reasoning=("need", " weather"), content=(), tool_calls=(CALL,), finish_reason="tool_calls"
    )


async def test_two_step_tool_loop_non_streamed(live: Live) -> None:
    live.script_by_request = engine_script
    client = openai.AsyncOpenAI(
        base_url=f"{live.base_url}/v1", api_key=await live.api_key(), max_retries=0
    )
    messages: list[Any] = [{"role": "user", "content": "東京の天気は？"}]
    first = await client.chat.completions.create(
        model=MODEL, messages=messages, tools=[WEATHER_TOOL], tool_choice="auto"
    )
    choice = first.choices[0]
    assert choice.finish_reason == "tool_calls"
    [call] = choice.message.tool_calls or []
    assert call.id == "call_1" and call.function.name == "get_weather"  # type: ignore[union-attr]
    assert json.loads(call.function.arguments) == {"city": "東京"}  # type: ignore[union-attr]
    sent = live.upstream.requests[-1].body
    assert sent is not None
    assert sent["tools"][0]["function"]["name"] == "get_weather"
    assert sent["tool_choice"] == "auto"

    messages += [
        choice.message.model_dump(exclude_none=True),
        {"role": "tool", "tool_call_id": call.id, "content": '{"weather": "晴れ"}'},
    ]
    second = await client.chat.completions.create(
        model=MODEL, messages=messages, tools=[WEATHER_TOOL]
    )
    assert second.choices[0].message.content == "東京は晴れです"
    sent = live.upstream.requests[-1].body
    assert sent is not None
    assistant, tool = sent["messages"][-2:]
    assert assistant["tool_calls"][0]["function"]["arguments"] == '{"city": "東京"}'
    # Within the tool loop the chain of thought goes back in vLLM's field.
    assert assistant["reasoning"] == "need weather"
    assert tool == {"role": "tool", "content": '{"weather": "晴れ"}', "tool_call_id": "call_1"}


async def test_streamed_tool_call_arguments_arrive_whole(live: Live) -> None:
    live.script_by_request = engine_script
    client = openai.AsyncOpenAI(
        base_url=f"{live.base_url}/v1", api_key=await live.api_key(), max_retries=0
    )
    stream = await client.chat.completions.create(
        model=MODEL,
        messages=[{"role": "user", "content": "東京の天気は？"}],
        tools=[WEATHER_TOOL],
        stream=True,
    )
    pieces: list[str] = []
    names: list[str] = []
    finish = None
    async for chunk in stream:
        for choice in chunk.choices:
            for delta in choice.delta.tool_calls or []:
                if delta.function and delta.function.name:
                    names.append(delta.function.name)
                if delta.function and delta.function.arguments:
                    pieces.append(delta.function.arguments)
            finish = choice.finish_reason or finish
    assert names == ["get_weather"]
    assert json.loads("".join(pieces)) == {"city": "東京"}
    assert finish == "tool_calls"


async def test_a_tool_call_leaked_on_the_analysis_channel_is_a_tool_call(live: Live) -> None:
    leaked = (
        "<|channel|>analysis to=functions.get_weather <|constrain|>json"
        '<|message|>{"city": "東京"}<|call|>'
    )
    live.script = Script(
        reasoning_field=None,
        content=tuple(leaked[i : i + 3] for i in range(0, len(leaked), 3)),
        finish_reason="stop",
    )
    client = openai.AsyncOpenAI(
        base_url=f"{live.base_url}/v1", api_key=await live.api_key(), max_retries=0
    )
    result = await client.chat.completions.create(
        model=MODEL, messages=[{"role": "user", "content": "東京の天気は？"}], tools=[WEATHER_TOOL]
    )
    choice = result.choices[0]
    assert choice.finish_reason == "tool_calls"
    assert not choice.message.content
    [call] = choice.message.tool_calls or []
    assert call.function.name == "get_weather"  # type: ignore[union-attr]
    assert json.loads(call.function.arguments) == {"city": "東京"}  # type: ignore[union-attr]
