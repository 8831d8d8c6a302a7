"""What the backend tests share: a pooled client, and ways to run one stream to its end."""

from __future__ import annotations

import socket
import traceback
from collections.abc import AsyncIterator

import aiohttp
import pytest

from mamori.domain.chat import (
    ChatMessage,
    ContentDelta,
    ReasoningDelta,
    StreamEvent,
    UpstreamRequest,
)
from mamori.domain.endpoint import Endpoint, Residency
from mamori.errors import UpstreamError
from mamori.gateway.dialects import get_dialect
from mamori.gateway.openai_compat import OpenAICompatBackend, make_http_client
from tests.support.fake_upstream import FakeUpstream

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
    backend: OpenAICompatBackend, request: UpstreamRequest = REQUEST
) -> tuple[list[StreamEvent], UpstreamError]:
    events: list[StreamEvent] = []

    async def consume() -> None:
        async for event in backend.stream(request):
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


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port
