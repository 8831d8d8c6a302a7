"""Tool calls through OpenAICompatBackend: pieces assembled, validated as JSON, passed on whole."""

from __future__ import annotations

import json

import aiohttp

from mamori.domain.chat import (
    Done,
    FinishReason,
    ToolCallDelta,
)
from mamori.errors import (
    UpstreamProtocolError,
)
from tests.gateway.conftest import (
    backend_for,
    collect,
    collect_until_error,
)
from tests.support.fake_upstream import FakeUpstream, Script, ToolCallScript

# --- tool calls --------------------------------------------------------------------------------


async def test_tool_call_arguments_assemble_across_chunks(
    fake: FakeUpstream, client: aiohttp.ClientSession
) -> None:
    fake.script = Script(
        content=(),
        reasoning=("Need weather.",),
        tool_calls=(
            ToolCallScript("call_a", "weather", ('{"ci', 'ty": "東', '京"}')),
            ToolCallScript("call_b", "time", ("{", '"tz": "Asia/Tokyo"', "}")),
        ),
        finish_reason="tool_calls",
    )
    events = await collect(backend_for(fake.base_url, client))
    calls: dict[int, dict[str, str]] = {}
    for event in events:
        if isinstance(event, ToolCallDelta):
            call = calls.setdefault(event.index, {"id": "", "name": "", "arguments": ""})
            call["id"] += event.id or ""
            call["name"] += event.name or ""
            call["arguments"] += event.arguments
    assert calls[0]["id"] == "call_a"
    assert calls[0]["name"] == "weather"
    assert json.loads(calls[0]["arguments"]) == {"city": "東京"}
    assert calls[1]["name"] == "time"
    assert json.loads(calls[1]["arguments"]) == {"tz": "Asia/Tokyo"}
    assert events[-1] == Done(FinishReason.TOOL_CALLS)


async def test_tool_calls_finishing_with_stop_are_reported_as_tool_calls(
    fake: FakeUpstream, client: aiohttp.ClientSession
) -> None:
    fake.script = Script(content=(), tool_calls=(ToolCallScript("c", "f", ("{}",)),))
    events = await collect(backend_for(fake.base_url, client))
    assert events[-1] == Done(FinishReason.TOOL_CALLS)


async def test_malformed_tool_call_arguments_are_an_error_not_garbage(
    fake: FakeUpstream, client: aiohttp.ClientSession
) -> None:
    fake.script = Script(
        content=(),
        tool_calls=(ToolCallScript("c", "lookup", ('{"q": "東', "京")),),  # never closed
        finish_reason="tool_calls",
    )
    events, error = await collect_until_error(backend_for(fake.base_url, client))
    assert isinstance(error, UpstreamProtocolError)
    assert "malformed JSON arguments" in str(error)
    assert not any(isinstance(e, ToolCallDelta) for e in events)


async def test_tool_calls_are_passed_on_whole_once_complete(
    fake: FakeUpstream, client: aiohttp.ClientSession
) -> None:
    fake.script = Script(
        content=(),
        tool_calls=(ToolCallScript("c", "lookup", ('{"q"', ": 1}")),),
        finish_reason="tool_calls",
    )
    events = await collect(backend_for(fake.base_url, client))
    calls = [e for e in events if isinstance(e, ToolCallDelta)]
    assert calls == [ToolCallDelta(index=0, id="c", name="lookup", arguments='{"q": 1}')]
