"""Egress control: the shared client reaches configured endpoints and nothing else."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import pytest

from mamori.domain.chat import ChatMessage, UpstreamRequest
from mamori.domain.endpoint import Endpoint, Residency
from mamori.errors import EgressDeniedError, UpstreamStatusError
from mamori.gateway.egress import EgressControl, origin_of
from mamori.gateway.openai_compat import backend_factory, make_http_client
from tests.support.fake_upstream import FakeUpstream


def endpoint(name: str, url: str) -> Endpoint:
    return Endpoint(name, url, "vllm", Residency.ONPREM, {"m": "m"})


@pytest.fixture
async def two_engines() -> AsyncIterator[tuple[FakeUpstream, FakeUpstream]]:
    allowed, other = FakeUpstream(models=("m",)), FakeUpstream(models=("m",))
    await allowed.start()
    await other.start()
    yield allowed, other
    await allowed.stop()
    await other.stop()


async def redirecting_server(location: str) -> asyncio.Server:
    """Answers every request with a 307 to ``location``: a hop the caller never configured."""

    async def serve(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(
            f"HTTP/1.1 307 Temporary Redirect\r\nlocation: {location}\r\n"
            "content-length: 0\r\nconnection: close\r\n\r\n".encode()
        )
        await writer.drain()
        writer.close()

    return await asyncio.start_server(serve, "127.0.0.1", 0)


def test_origins_normalise_case_and_default_ports() -> None:
    assert origin_of("HTTPS://Api.Example.JP/v1") == ("https", "api.example.jp", 443)
    assert origin_of("http://10.0.0.5:8000/v1") == ("http", "10.0.0.5", 8000)


async def test_only_configured_origins_are_reached_and_refusals_are_logged(
    two_engines: tuple[FakeUpstream, FakeUpstream], caplog: pytest.LogCaptureFixture
) -> None:
    allowed, other = two_engines
    egress = EgressControl([endpoint("gpu1", allowed.base_url)])
    client = make_http_client(5.0, egress)
    try:
        async with client.get(f"{allowed.base_url}/models") as response:
            assert response.status == 200
        with caplog.at_level(logging.WARNING), pytest.raises(EgressDeniedError):
            await client.post(f"{other.base_url}/chat/completions", data=b'{"secret": 1}')
    finally:
        await client.close()
    assert other.requests == [] and other.connections == 0
    assert egress.refused_total == 1
    assert any("not a configured endpoint" in r.getMessage() for r in caplog.records)
    # Host and port are logged, never the path or the body.
    assert not any("secret" in r.getMessage() for r in caplog.records)


async def test_a_redirect_off_the_configured_origin_is_refused(
    two_engines: tuple[FakeUpstream, FakeUpstream],
) -> None:
    _, other = two_engines
    server = await redirecting_server(f"{other.base_url}/chat/completions")
    port = server.sockets[0].getsockname()[1]
    trap = f"http://127.0.0.1:{port}/v1"
    egress = EgressControl([endpoint("gpu1", trap)])
    client = make_http_client(5.0, egress)
    try:
        with pytest.raises(EgressDeniedError):
            await client.post(f"{trap}/chat/completions", data=b"{}")
    finally:
        await client.close()
        server.close()
        await server.wait_closed()
    assert other.requests == []


async def test_the_allowed_set_follows_the_endpoint_set(
    two_engines: tuple[FakeUpstream, FakeUpstream],
) -> None:
    allowed, _ = two_engines
    egress = EgressControl()
    client = make_http_client(5.0, egress)
    try:
        with pytest.raises(EgressDeniedError):
            await client.get(f"{allowed.base_url}/models")
        egress.allow_only([endpoint("gpu1", allowed.base_url)])
        async with client.get(f"{allowed.base_url}/models") as response:
            assert response.status == 200
        egress.allow_only([])
        with pytest.raises(EgressDeniedError):
            await client.get(f"{allowed.base_url}/models")
    finally:
        await client.close()


async def test_without_egress_control_the_cli_client_is_unrestricted(
    two_engines: tuple[FakeUpstream, FakeUpstream],
) -> None:
    _, other = two_engines
    client = make_http_client(5.0)
    try:
        async with client.get(f"{other.base_url}/models") as response:
            assert response.status == 200
    finally:
        await client.close()


async def test_an_engine_redirect_is_an_error_and_is_never_followed(
    two_engines: tuple[FakeUpstream, FakeUpstream],
) -> None:
    _, other = two_engines
    server = await redirecting_server(f"{other.base_url}/chat/completions")
    port = server.sockets[0].getsockname()[1]
    trap = endpoint("gpu1", f"http://127.0.0.1:{port}/v1")
    client = make_http_client(5.0)  # no egress control: the backend alone must not follow
    backend = backend_factory(client, first_byte_timeout=5.0, idle_timeout=5.0)(trap)
    request = UpstreamRequest(upstream_model="m", messages=(ChatMessage("user", "機密"),))
    try:
        with pytest.raises(UpstreamStatusError) as caught:
            async for _ in backend.stream(request):
                pass
        assert caught.value.status == 307
    finally:
        await backend.aclose()
        await client.close()
        server.close()
        await server.wait_closed()
    assert other.requests == []
