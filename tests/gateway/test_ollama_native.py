"""Ollama's native /api/chat: the request body, and the backend against the scripted engine."""

from __future__ import annotations

import json

import aiohttp
import orjson
import pytest

from mamori.domain.chat import (
    ChatMessage,
    ContentDelta,
    Done,
    FinishReason,
    ReasoningDelta,
    ToolCallDelta,
    UpstreamRequest,
    Usage,
)
from mamori.errors import (
    UpstreamProtocolError,
    UpstreamStatusError,
    UpstreamTimeoutError,
    UpstreamUnavailableError,
)
from mamori.gateway.openai_compat import OpenAICompatBackend
from tests.gateway.conftest import (
    API_KEY,
    REQUEST,
    assert_no_key,
    backend_for,
    collect,
    collect_until_error,
    texts,
)
from tests.support.fake_ollama import encode_reply
from tests.support.fake_upstream import FakeUpstream, Script, ToolCallScript


def ollama_backend(
    fake: FakeUpstream, client: aiohttp.ClientSession, **timeouts: float
) -> OpenAICompatBackend:
    return backend_for(fake.root_url, client, "ollama_native", **timeouts)


# --- what goes up the wire ---------------------------------------------------------------------


@pytest.mark.parametrize("suffix", ["", "/", "/v1", "/v1/"])
async def test_posts_to_api_chat_at_the_root(
    fake: FakeUpstream, client: aiohttp.ClientSession, suffix: str
) -> None:
    backend = backend_for(fake.root_url + suffix, client, "ollama_native")
    request = UpstreamRequest(
        upstream_model="gpt-oss:120b",
        messages=(ChatMessage("user", "こんにちは"),),
        reasoning_effort="low",
        context_length=32768,
    )
    await collect(backend, request)
    received = fake.requests[-1]
    assert (received.method, received.path) == ("POST", "/api/chat")
    assert received.body is not None
    assert received.body["think"] == "low"
    assert received.body["options"] == {"num_ctx": 32768}
    assert received.body["stream"] is True
    assert received.headers["accept"] == "application/x-ndjson"
    assert received.headers["authorization"] == f"Bearer {API_KEY}"


async def test_list_models_from_api_tags(client: aiohttp.ClientSession) -> None:
    async with FakeUpstream(models=("gpt-oss:20b", "gpt-oss:120b")) as upstream:
        models = await backend_for(upstream.root_url, client, "ollama_native").list_models()
        assert models == ["gpt-oss:20b", "gpt-oss:120b"]
        assert upstream.requests[-1].path == "/api/tags"


async def test_sequential_streams_reuse_one_connection(
    fake: FakeUpstream, client: aiohttp.ClientSession
) -> None:
    backend = ollama_backend(fake, client)
    for _ in range(3):
        assert (await collect(backend))[-1] == Done()
    assert fake.connections == 1


# --- answers -----------------------------------------------------------------------------------


async def test_thinking_then_content_with_usage(
    fake: FakeUpstream, client: aiohttp.ClientSession
) -> None:
    fake.script = Script(reasoning=("The user", " greets."), content=("こんにちは", "!"))
    events = await collect(ollama_backend(fake, client))
    assert events == [
        ReasoningDelta("The user"),
        ReasoningDelta(" greets."),
        ContentDelta("こんにちは"),
        ContentDelta("!"),
        Usage(prompt_tokens=12, completion_tokens=4),
        Done(FinishReason.STOP),
    ]


async def test_a_non_streamed_reply_reads_the_same(
    fake: FakeUpstream, client: aiohttp.ClientSession
) -> None:
    answer = Script(reasoning=("hmm",), content=("42",))
    async with client.post(
        fake.root_url + "/api/chat", json={"model": "m", "messages": [], "stream": False}
    ) as response:
        reply = await response.read()
    assert reply == encode_reply(Script())
    # An engine that ignores "stream": one JSON object, no newline, is a whole answer too.
    fake.script = Script(wire=(encode_reply(answer),))
    events = await collect(ollama_backend(fake, client))
    assert events == [
        ReasoningDelta("hmm"),
        ContentDelta("42"),
        Usage(prompt_tokens=12, completion_tokens=2),
        Done(),
    ]


async def test_tool_calls_get_ids_and_json_string_arguments(
    fake: FakeUpstream, client: aiohttp.ClientSession
) -> None:
    fake.script = Script(
        content=(),
        reasoning=("Need weather.",),
        tool_calls=(
            ToolCallScript("", "weather", ('{"city": "東京"}',)),
            ToolCallScript("", "time", ('{"tz": "Asia/Tokyo"}',)),
        ),
    )
    events = await collect(ollama_backend(fake, client))
    calls = [e for e in events if isinstance(e, ToolCallDelta)]
    assert [(c.index, c.name) for c in calls] == [(0, "weather"), (1, "time")]
    assert json.loads(calls[0].arguments) == {"city": "東京"}
    assert json.loads(calls[1].arguments) == {"tz": "Asia/Tokyo"}
    ids = [c.id for c in calls]
    assert all(i and i.startswith("call_") for i in ids)
    assert len(set(ids)) == 2
    # Ollama says "stop" after a tool call; the tool loop keys on tool_calls.
    assert events[-1] == Done(FinishReason.TOOL_CALLS)


async def test_an_id_ollama_sends_is_kept(
    fake: FakeUpstream, client: aiohttp.ClientSession
) -> None:
    line = {
        "message": {
            "role": "assistant",
            "content": "",
            "tool_calls": [{"id": "call_x", "function": {"name": "f", "arguments": {}}}],
        },
        "done": True,
        "done_reason": "stop",
    }
    fake.script = Script(wire=(orjson.dumps(line) + b"\n",))
    events = await collect(ollama_backend(fake, client))
    assert ToolCallDelta(index=0, id="call_x", name="f", arguments="{}") in events


@pytest.mark.parametrize(
    ("script", "usage"),
    [(Script(include_usage=False), []), (Script(), [Usage(12, 3)])],
    ids=["absent", "present"],
)
async def test_usage_present_or_absent(
    fake: FakeUpstream, client: aiohttp.ClientSession, script: Script, usage: list[Usage]
) -> None:
    fake.script = script
    events = await collect(ollama_backend(fake, client))
    assert [e for e in events if isinstance(e, Usage)] == usage
    assert texts(events, ContentDelta) == "Hello, world"
    assert events[-1] == Done()


async def test_zero_counts_are_no_usage(fake: FakeUpstream, client: aiohttp.ClientSession) -> None:
    final = {"message": {"role": "assistant", "content": "a"}, "done": True, "eval_count": 0}
    fake.script = Script(wire=(orjson.dumps(final) + b"\n",))
    events = await collect(ollama_backend(fake, client))
    assert events == [ContentDelta("a"), Done()]


async def test_done_reason_length(fake: FakeUpstream, client: aiohttp.ClientSession) -> None:
    fake.script = Script(finish_reason="length")
    assert (await collect(ollama_backend(fake, client)))[-1] == Done(FinishReason.LENGTH)


async def test_lines_split_across_reads_and_crlf(
    fake: FakeUpstream, client: aiohttp.ClientSession
) -> None:
    fake.script = Script(
        wire=(
            b'{"message":{"role":"assistant","thinking":"h',
            b'm"},"done":false}\r\n\n{"message":{"content":"ok"},"done":false}\n{"done":tr',
            b'ue,"done_reason":"stop","prompt_eval_count":3,"eval_count":2}\n',
        )
    )
    events = await collect(ollama_backend(fake, client))
    assert events == [ReasoningDelta("hm"), ContentDelta("ok"), Usage(3, 2), Done()]


async def test_harmony_leaked_into_content_and_thinking_is_repaired(
    fake: FakeUpstream, client: aiohttp.ClientSession
) -> None:
    fake.script = Script(
        reasoning=("<|channel|>analysis<|message|>plan<|end|>",),
        content=(
            "<|channel|>analysis<|message|>more<|end|><|start|>assistant",
            "<|chan",
            "nel|>final<|message|>答え",
        ),
    )
    events = await collect(ollama_backend(fake, client))
    assert texts(events, ReasoningDelta) == "planmore"
    assert texts(events, ContentDelta) == "答え"
    assert not any("<|" in e.text for e in events if isinstance(e, ContentDelta | ReasoningDelta))


async def test_a_tool_call_leaked_into_thinking_becomes_a_tool_call(
    fake: FakeUpstream, client: aiohttp.ClientSession
) -> None:
    leak = '<|channel|>analysis to=functions.lookup <|constrain|>json<|message|>{"q": 1}<|call|>'
    fake.script = Script(reasoning=(leak,), content=())
    events = await collect(ollama_backend(fake, client))
    calls = [e for e in events if isinstance(e, ToolCallDelta)]
    assert [(c.name, c.arguments) for c in calls] == [("lookup", '{"q": 1}')]
    assert events[-1] == Done(FinishReason.TOOL_CALLS)


# --- failures: the same errors as the OpenAI-compatible path -----------------------------------


async def test_error_line_is_a_protocol_error(
    fake: FakeUpstream, client: aiohttp.ClientSession
) -> None:
    fake.script = Script(
        wire=(b'{"message":{"content":"a"},"done":false}\n', b'{"error":"llama runner exited"}\n')
    )
    events, error = await collect_until_error(ollama_backend(fake, client))
    assert isinstance(error, UpstreamProtocolError)
    assert "llama runner exited" in str(error)
    assert "gpu-1" in str(error)
    assert not any(isinstance(e, Done) for e in events)


@pytest.mark.parametrize("status", [500, 404])
async def test_http_error_status(
    fake: FakeUpstream, client: aiohttp.ClientSession, status: int
) -> None:
    fake.script = Script(status=status, status_body=b'{"error":"model \\"x\\" not found"}')
    events, error = await collect_until_error(ollama_backend(fake, client))
    assert events == []
    assert isinstance(error, UpstreamStatusError)
    assert error.status == status
    assert "not found" in error.body
    assert_no_key(error)


async def test_malformed_line_is_a_protocol_error(
    fake: FakeUpstream, client: aiohttp.ClientSession
) -> None:
    fake.script = Script(wire=(b'{"message":{"content":"a"},"done":false}\n', b"{not json\n"))
    _events, error = await collect_until_error(ollama_backend(fake, client))
    assert isinstance(error, UpstreamProtocolError)


async def test_disconnect_mid_stream(fake: FakeUpstream, client: aiohttp.ClientSession) -> None:
    fake.script = Script(content=10, disconnect_after=3)
    events, error = await collect_until_error(ollama_backend(fake, client))
    assert isinstance(error, UpstreamProtocolError)
    assert texts(events, ContentDelta) == " t0 t1 t2"
    assert not any(isinstance(e, Done) for e in events)
    assert_no_key(error)


async def test_clean_end_without_a_done_line_is_a_broken_stream(
    fake: FakeUpstream, client: aiohttp.ClientSession
) -> None:
    fake.script = Script(send_done=False)
    events, error = await collect_until_error(ollama_backend(fake, client))
    assert isinstance(error, UpstreamProtocolError)
    assert "before finishing" in str(error)
    assert texts(events, ContentDelta) == "Hello, world"


async def test_stall_mid_stream_is_an_idle_timeout(
    fake: FakeUpstream, client: aiohttp.ClientSession
) -> None:
    fake.script = Script(content=10, stall_after=2)
    events, error = await collect_until_error(ollama_backend(fake, client, idle_timeout=0.2))
    assert isinstance(error, UpstreamTimeoutError)
    assert "sent nothing for 0.2s" in str(error)
    assert texts(events, ContentDelta) == " t0 t1"
    await fake.wait_for(lambda: fake.disconnects == 1 and fake.active_streams == 0)


@pytest.mark.parametrize(
    "script",
    [Script(stall_after=0), Script(hang_before_headers=True)],
    ids=["headers-only", "no-headers"],
)
async def test_no_first_byte_is_a_first_byte_timeout(
    fake: FakeUpstream, client: aiohttp.ClientSession, script: Script
) -> None:
    fake.script = script
    backend = ollama_backend(fake, client, first_byte_timeout=0.2, idle_timeout=5)
    events, error = await collect_until_error(backend)
    assert events == []
    assert isinstance(error, UpstreamTimeoutError)
    assert "no first byte within 0.2s" in str(error)


async def test_unreachable_engine(client: aiohttp.ClientSession) -> None:
    backend = backend_for("http://127.0.0.1:9", client, "ollama_native")
    _events, error = await collect_until_error(backend, REQUEST)
    assert isinstance(error, UpstreamUnavailableError)
    with pytest.raises(UpstreamUnavailableError):
        await backend.list_models()
