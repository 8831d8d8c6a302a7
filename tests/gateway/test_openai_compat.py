"""OpenAICompatBackend against a real loopback HTTP server shaped like each engine."""

from __future__ import annotations

import asyncio
import json
import socket
import traceback
from collections.abc import AsyncIterator
from contextlib import aclosing
from dataclasses import replace

import aiohttp
import pytest

from mamori.domain.chat import (
    ChatMessage,
    ContentDelta,
    Done,
    FinishReason,
    ReasoningDelta,
    StreamEvent,
    ToolCallDelta,
    UpstreamRequest,
    Usage,
)
from mamori.domain.endpoint import Endpoint, Residency
from mamori.errors import (
    ConfigError,
    UpstreamError,
    UpstreamProtocolError,
    UpstreamStatusError,
    UpstreamTimeoutError,
    UpstreamUnavailableError,
)
from mamori.gateway.dialects import get_dialect
from mamori.gateway.openai_compat import OpenAICompatBackend, make_http_client
from tests.support.fake_upstream import FakeUpstream, Script, ToolCallScript

API_KEY = "sk-mamori-test-7f3a9c"  # a fake key; tests check it never leaks
REQUEST = UpstreamRequest(
    upstream_model="gpt-oss-120b",
    messages=(ChatMessage("user", "こんにちは"),),
    reasoning_effort="medium",
)


@pytest.fixture
async def client() -> AsyncIterator[aiohttp.ClientSession]:
    http = make_http_client(connect_timeout=2.0)
    yield http
    await http.close()


@pytest.fixture
async def fake() -> AsyncIterator[FakeUpstream]:
    async with FakeUpstream() as upstream:
        yield upstream


def backend_for(
    base_url: str,
    client: aiohttp.ClientSession,
    dialect: str = "vllm",
    *,
    first_byte_timeout: float = 5.0,
    idle_timeout: float = 5.0,
) -> OpenAICompatBackend:
    endpoint = Endpoint(
        name="gpu-1", base_url=base_url, dialect=dialect, residency=Residency.ONPREM
    )
    return OpenAICompatBackend(
        endpoint,
        get_dialect(dialect),
        client,
        api_key=API_KEY,
        first_byte_timeout=first_byte_timeout,
        idle_timeout=idle_timeout,
    )


async def collect(
    backend: OpenAICompatBackend, request: UpstreamRequest = REQUEST
) -> list[StreamEvent]:
    return [event async for event in backend.stream(request)]


async def collect_until_error(
    backend: OpenAICompatBackend,
) -> tuple[list[StreamEvent], UpstreamError]:
    events: list[StreamEvent] = []

    async def consume() -> None:
        async for event in backend.stream(REQUEST):
            events.append(event)

    with pytest.raises(UpstreamError) as caught:
        await consume()
    return events, caught.value


def texts(events: list[StreamEvent], kind: type[ContentDelta | ReasoningDelta]) -> str:
    return "".join(e.text for e in events if isinstance(e, kind))


def assert_no_key(exc: BaseException) -> None:
    rendered = "".join(traceback.format_exception(exc))
    assert API_KEY not in rendered
    assert API_KEY not in repr(exc)


# --- each engine's shape -----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("dialect", "emitted_field"),
    [
        ("vllm", "reasoning"),
        ("vllm", "reasoning_content"),  # vLLM before the rename
        ("sglang", "reasoning_content"),
        ("llamacpp", "reasoning_content"),
        ("ollama", "reasoning"),
        ("ollama", "thinking"),  # read through the fallback
        ("openai", "reasoning_content"),
        ("openai", "reasoning"),
    ],
)
async def test_reasoning_then_content_in_each_dialect(
    fake: FakeUpstream, client: aiohttp.ClientSession, dialect: str, emitted_field: str
) -> None:
    fake.script = Script(
        reasoning_field=emitted_field,
        reasoning=("The user", " greets", "."),
        content=("こんにちは", "!"),
    )
    events = await collect(backend_for(fake.base_url, client, dialect))
    assert events == [
        ReasoningDelta("The user"),
        ReasoningDelta(" greets"),
        ReasoningDelta("."),
        ContentDelta("こんにちは"),
        ContentDelta("!"),
        Usage(prompt_tokens=12, completion_tokens=5),
        Done(FinishReason.STOP),
    ]


async def test_reasoning_sent_under_two_names_is_read_once(
    fake: FakeUpstream, client: aiohttp.ClientSession
) -> None:
    fake.script = Script(reasoning_field=("reasoning", "reasoning_content"), reasoning=4)
    events = await collect(backend_for(fake.base_url, client))
    assert texts(events, ReasoningDelta) == " r0 r1 r2 r3"


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


@pytest.mark.parametrize(
    ("script", "usage"),
    [
        (Script(include_usage=False), None),
        (Script(usage_with_finish=True), Usage(12, 3)),
        (Script(), Usage(12, 3)),
        (
            Script(reasoning=("a", "b"), report_reasoning_tokens=True),
            Usage(12, 5, reasoning_tokens=2),
        ),
    ],
    ids=["absent", "in-finish-chunk", "own-chunk", "with-reasoning-tokens"],
)
async def test_usage_present_or_absent(
    fake: FakeUpstream, client: aiohttp.ClientSession, script: Script, usage: Usage | None
) -> None:
    fake.script = script
    events = await collect(backend_for(fake.base_url, client))
    assert [e for e in events if isinstance(e, Usage)] == ([usage] if usage else [])
    assert events[-1] == Done()
    assert sum(isinstance(e, Done) for e in events) == 1
    assert texts(events, ContentDelta) == "Hello, world"


async def test_finish_reason_length(fake: FakeUpstream, client: aiohttp.ClientSession) -> None:
    fake.script = Script(finish_reason="length")
    assert (await collect(backend_for(fake.base_url, client)))[-1] == Done(FinishReason.LENGTH)


async def test_end_of_body_after_a_finish_reason_is_a_normal_end(
    fake: FakeUpstream, client: aiohttp.ClientSession
) -> None:
    fake.script = Script(send_done=False)
    assert (await collect(backend_for(fake.base_url, client)))[-1] == Done()


async def test_crlf_framing_and_comments_from_the_engine(
    fake: FakeUpstream, client: aiohttp.ClientSession
) -> None:
    fake.script = Script(
        wire=(
            b": ping\r\n\r\n",
            b'data: {"choices":[{"delta":{"reasoning_content":"hm"}}]}\r',
            b'\n\r\ndata: {"choices":[{"delta":{"content":"ok"},"finish_reason":"stop"}]}\r\n\r\n',
            b"data: [DONE]\r\n\r\n",
        )
    )
    events = await collect(backend_for(fake.base_url, client, "llamacpp"))
    assert events == [ReasoningDelta("hm"), ContentDelta("ok"), Done()]


# --- what goes up ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("dialect", "effort_at"),
    [
        ("vllm", ("reasoning_effort",)),
        ("sglang", ("reasoning_effort",)),
        ("ollama", ("reasoning_effort",)),
        ("openai", ("reasoning_effort",)),
        ("llamacpp", ("chat_template_kwargs", "reasoning_effort")),
    ],
)
async def test_request_body_and_headers_per_dialect(
    fake: FakeUpstream, client: aiohttp.ClientSession, dialect: str, effort_at: tuple[str, ...]
) -> None:
    await collect(backend_for(fake.base_url, client, dialect))
    received = fake.requests[-1]
    assert received.method == "POST"
    assert received.path == "/v1/chat/completions"
    body = received.body
    assert body is not None
    assert body["model"] == "gpt-oss-120b"
    assert body["stream"] is True
    assert body["stream_options"] == {"include_usage": True}
    assert body["messages"] == [{"role": "user", "content": "こんにちは"}]
    value: object = body
    for key in effort_at:
        assert isinstance(value, dict)
        value = value[key]
    assert value == "medium"
    assert received.headers["authorization"] == f"Bearer {API_KEY}"
    assert received.headers["accept-encoding"] == "identity"


async def test_no_authorization_header_without_a_key(
    fake: FakeUpstream, client: aiohttp.ClientSession
) -> None:
    endpoint = Endpoint("local", fake.base_url, "llamacpp", Residency.ONPREM)
    backend = OpenAICompatBackend(
        endpoint, get_dialect("llamacpp"), client, first_byte_timeout=5, idle_timeout=5
    )
    await collect(backend)
    assert "authorization" not in fake.requests[-1].headers


def test_a_key_with_control_characters_is_refused_without_quoting_it(
    client: aiohttp.ClientSession,
) -> None:
    endpoint = Endpoint("gpu-1", "http://127.0.0.1:9/v1", "vllm", Residency.ONPREM)
    with pytest.raises(ConfigError) as caught:
        OpenAICompatBackend(
            endpoint,
            get_dialect("vllm"),
            client,
            api_key=API_KEY + "\x00x",
            first_byte_timeout=1,
            idle_timeout=1,
        )
    assert API_KEY not in str(caught.value)


async def test_sequential_streams_reuse_one_connection(
    fake: FakeUpstream, client: aiohttp.ClientSession
) -> None:
    backend = backend_for(fake.base_url, client)
    for _ in range(3):
        await collect(backend)
    assert fake.connections == 1


async def test_list_models(client: aiohttp.ClientSession) -> None:
    async with FakeUpstream(models=("gpt-oss-120b", "gpt-oss-20b")) as upstream:
        models = await backend_for(upstream.base_url, client).list_models()
        assert models == ["gpt-oss-120b", "gpt-oss-20b"]
        assert upstream.requests[-1].headers["authorization"] == f"Bearer {API_KEY}"


# --- failures ----------------------------------------------------------------------------------


async def test_harmony_error_503_before_first_byte(
    fake: FakeUpstream, client: aiohttp.ClientSession
) -> None:
    fake.script = Script(status=503)
    events, error = await collect_until_error(backend_for(fake.base_url, client))
    assert events == []
    assert isinstance(error, UpstreamStatusError)
    assert error.status == 503
    assert "HarmonyError" in error.body
    assert_no_key(error)


async def test_a_failed_first_request_does_not_spoil_the_next(
    client: aiohttp.ClientSession,
) -> None:
    seen: list[int] = []

    def script_for(body: dict[str, object]) -> Script:
        seen.append(1)
        return Script(status=500, status_body=b"boom") if len(seen) == 1 else Script()

    async with FakeUpstream(script_for=script_for) as upstream:
        backend = backend_for(upstream.base_url, client)
        with pytest.raises(UpstreamStatusError):
            await collect(backend)
        assert (await collect(backend))[-1] == Done()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


async def test_connection_refused(client: aiohttp.ClientSession) -> None:
    backend = backend_for(f"http://127.0.0.1:{free_port()}/v1", client)
    events, error = await collect_until_error(backend)
    assert events == []
    assert isinstance(error, UpstreamUnavailableError)
    assert "gpu-1" in str(error)
    assert_no_key(error)
    with pytest.raises(UpstreamUnavailableError):
        await backend.list_models()


async def test_disconnect_mid_stream(fake: FakeUpstream, client: aiohttp.ClientSession) -> None:
    fake.script = Script(content=10, disconnect_after=4)
    events, error = await collect_until_error(backend_for(fake.base_url, client))
    assert isinstance(error, UpstreamProtocolError)
    assert texts(events, ContentDelta) == " t0 t1 t2"  # role chunk + 3 tokens got through
    assert not any(isinstance(e, Done) for e in events)
    assert_no_key(error)


async def test_clean_end_without_finish_reason_or_done_is_a_broken_stream(
    fake: FakeUpstream, client: aiohttp.ClientSession
) -> None:
    fake.script = Script(finish_reason=None, include_usage=False, send_done=False)
    events, error = await collect_until_error(backend_for(fake.base_url, client))
    assert isinstance(error, UpstreamProtocolError)
    assert texts(events, ContentDelta) == "Hello, world"


@pytest.mark.parametrize(
    "wire",
    [
        (b'data: {"choices":[{"delta":{"content":"a"}}]}\n\n', b"data: {not json\n\n"),
        (b'data: {"choices":"oops"}\n\n',),
        (b'data: {"error":{"message":"HarmonyError: unexpected token","code":500}}\n\n',),
        (b'data: {"choices":[{"delta":{},"finish_reason":"error"}]}\n\n', b"data: [DONE]\n\n"),
    ],
    ids=["malformed-json", "wrong-shape", "error-object", "finish-error"],
)
async def test_unusable_chunks_are_protocol_errors(
    fake: FakeUpstream, client: aiohttp.ClientSession, wire: tuple[bytes, ...]
) -> None:
    fake.script = Script(wire=wire)
    _events, error = await collect_until_error(backend_for(fake.base_url, client))
    assert isinstance(error, UpstreamProtocolError)
    assert "gpu-1" in str(error)


async def test_error_object_message_is_kept(
    fake: FakeUpstream, client: aiohttp.ClientSession
) -> None:
    fake.script = Script(wire=(b'data: {"error":{"message":"HarmonyError: bad token"}}\n\n',))
    _events, error = await collect_until_error(backend_for(fake.base_url, client))
    assert "HarmonyError: bad token" in str(error)


async def test_stall_mid_stream_is_an_idle_timeout(
    fake: FakeUpstream, client: aiohttp.ClientSession
) -> None:
    fake.script = Script(content=10, stall_after=3)
    backend = backend_for(fake.base_url, client, idle_timeout=0.2)
    loop = asyncio.get_running_loop()
    started = loop.time()
    events, error = await collect_until_error(backend)
    assert isinstance(error, UpstreamTimeoutError)
    assert 0.15 < loop.time() - started < 2.0
    assert "sent nothing for 0.2s" in str(error)
    assert texts(events, ContentDelta) == " t0 t1"
    assert_no_key(error)
    # The timeout is ours, not a cancellation of the caller: the task carries no pending cancel.
    task = asyncio.current_task()
    assert task is not None
    assert task.cancelling() == 0
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
    backend = backend_for(fake.base_url, client, first_byte_timeout=0.2, idle_timeout=5)
    events, error = await collect_until_error(backend)
    assert events == []
    assert isinstance(error, UpstreamTimeoutError)
    assert "no first byte within 0.2s" in str(error)
    await fake.wait_for(lambda: fake.disconnects == 1)


async def test_a_slow_first_byte_is_allowed_up_to_its_own_timeout(
    fake: FakeUpstream, client: aiohttp.ClientSession
) -> None:
    fake.script = Script(first_event_delay=0.5)
    backend = backend_for(fake.base_url, client, first_byte_timeout=2.0, idle_timeout=0.25)
    assert (await collect(backend))[-1] == Done()


async def test_gaps_longer_than_idle_timeout_fail_even_after_a_fast_start(
    fake: FakeUpstream, client: aiohttp.ClientSession
) -> None:
    fake.script = Script(delay=0.3)
    backend = backend_for(fake.base_url, client, first_byte_timeout=5.0, idle_timeout=0.1)
    events, error = await collect_until_error(backend)
    assert isinstance(error, UpstreamTimeoutError)
    assert "sent nothing" in str(error)
    assert len(events) <= 1


async def test_a_slow_consumer_is_not_an_idle_engine(
    fake: FakeUpstream, client: aiohttp.ClientSession
) -> None:
    fake.script = Script(content=3)
    backend = backend_for(fake.base_url, client, first_byte_timeout=1.0, idle_timeout=0.1)
    events: list[StreamEvent] = []
    async for event in backend.stream(REQUEST):
        events.append(event)
        await asyncio.sleep(0.15)  # longer than the idle timeout, between reads
    assert events[-1] == Done()


# --- cancellation ------------------------------------------------------------------------------


async def test_closing_the_stream_early_hangs_up_on_the_engine(
    fake: FakeUpstream, client: aiohttp.ClientSession
) -> None:
    fake.script = Script(content=1000, delay=0.01)
    backend = backend_for(fake.base_url, client)
    async with aclosing(backend.stream(REQUEST)) as stream:
        async for event in stream:
            if isinstance(event, ContentDelta):
                break
    await fake.wait_for(lambda: fake.disconnects == 1 and fake.active_streams == 0)


async def test_cancelling_the_consumer_hangs_up_on_the_engine(
    fake: FakeUpstream, client: aiohttp.ClientSession
) -> None:
    fake.script = Script(content=1000, delay=0.01)
    backend = backend_for(fake.base_url, client)
    first = asyncio.Event()

    async def consume() -> None:
        async for event in backend.stream(REQUEST):
            if isinstance(event, ContentDelta):
                first.set()

    task = asyncio.create_task(consume())
    await first.wait()
    task.cancel()
    # A cancellation from outside stays a cancellation, never a timeout.
    with pytest.raises(asyncio.CancelledError):
        await task
    await fake.wait_for(lambda: fake.disconnects == 1 and fake.active_streams == 0)


async def test_many_concurrent_streams(fake: FakeUpstream, client: aiohttp.ClientSession) -> None:
    fake.script = Script(reasoning=20, content=50, delay=0.001)
    backend = backend_for(fake.base_url, client)
    results = await asyncio.gather(*(collect(backend) for _ in range(50)))
    for events in results:
        assert texts(events, ContentDelta) == "".join(f" t{i}" for i in range(50))
        assert events[-1] == Done()


async def test_fake_serves_a_request_with_variations(client: aiohttp.ClientSession) -> None:
    """The per-request script hook sees the body, so tests can vary answers by request."""

    def script_for(body: dict[str, object]) -> Script:
        return replace(Script(), content=(str(body.get("reasoning_effort")),))

    async with FakeUpstream(script_for=script_for) as upstream:
        events = await collect(backend_for(upstream.base_url, client))
    assert texts(events, ContentDelta) == "medium"


async def test_fake_engine_on_its_own_thread(client: aiohttp.ClientSession) -> None:
    upstream = FakeUpstream(Script(content=("threaded",)))
    base_url = upstream.run_in_thread()
    try:
        events = await collect(backend_for(base_url, client))
    finally:
        upstream.stop_thread()
    assert texts(events, ContentDelta) == "threaded"
    with pytest.raises(UpstreamUnavailableError):
        await collect(backend_for(base_url, client))


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
