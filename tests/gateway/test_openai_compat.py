"""OpenAICompatBackend against a real loopback HTTP server shaped like each engine: what comes
back, what goes up, and the fake engine itself.
"""

from __future__ import annotations

import asyncio
from dataclasses import replace

import aiohttp
import pytest

from mamori.domain.chat import (
    ContentDelta,
    Done,
    FinishReason,
    ReasoningDelta,
    Usage,
)
from mamori.domain.endpoint import Endpoint, Residency
from mamori.errors import (
    ConfigError,
    UpstreamUnavailableError,
)
from mamori.gateway.dialects import get_dialect
from mamori.gateway.openai_compat import OpenAICompatBackend
from tests.gateway.conftest import (
    API_KEY,
    backend_for,
    collect,
    texts,
)
from tests.support.fake_upstream import FakeUpstream, Script

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


# --- the fake engine and load -----------------------------------------------------------------


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
