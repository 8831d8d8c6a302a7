"""OpenAICompatBackend when the engine fails: HTTP errors, refused and broken connections,
unusable chunks, stalls, and cancellation by the consumer.
"""

from __future__ import annotations

import asyncio
from contextlib import aclosing

import aiohttp
import pytest

from mamori.domain.chat import (
    ContentDelta,
    Done,
    StreamEvent,
)
from mamori.errors import (
    UpstreamProtocolError,
    UpstreamStatusError,
    UpstreamTimeoutError,
    UpstreamUnavailableError,
)
from tests.gateway.conftest import (
    REQUEST,
    assert_no_key,
    backend_for,
    collect,
    collect_until_error,
    free_port,
    texts,
)
from tests.support.fake_upstream import FakeUpstream, Script

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
