"""A scripted engine: a real HTTP/1.1 server on loopback, on raw asyncio.

It serves the same ``Script`` in two wire shapes: OpenAI-compatible under ``base_url`` (``/v1``),
and Ollama's native API (``POST /api/chat``, ``GET /api/tags``) under ``root_url``.

Tests use it in-process (``async with FakeUpstream(script) as fake``); benchmarks can run it on
a thread (``run_in_thread``) or as a process::

    python -m tests.support.fake_upstream --port 8001 --tokens 256 --delay-ms 20

Each stream is pre-encoded once per distinct ``Script`` and shape (SSE events or NDJSON lines
already framed as HTTP chunks),
so serving costs one write per event: hundreds of concurrent streams fit on one core.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any, Self

import orjson

from tests.support.fake_ollama import encode_lines, encode_reply, encode_tags
from tests.support.fake_script import (
    Script,
    ToolCallScript,
    encode_completion,
    encode_events,
)

__all__ = ["FakeUpstream", "ReceivedRequest", "Script", "ToolCallScript", "main"]


@dataclass(frozen=True, slots=True)
class ReceivedRequest:
    method: str
    path: str
    headers: dict[str, str]  # names lower-cased
    body: dict[str, Any] | None  # parsed JSON, when there was a body


@dataclass
class FakeUpstream:
    script: Script = field(default_factory=Script)
    # Chooses the script per request from its JSON body; overrides ``script`` when set.
    script_for: Callable[[dict[str, Any]], Script] | None = None
    # GET /v1/models and GET /api/tags; default: the script's model.
    models: tuple[str, ...] | None = None
    requests: list[ReceivedRequest] = field(default_factory=list)
    bytes_received: int = 0
    active_streams: int = 0
    connections: int = 0  # TCP connections accepted; stays 1 while a client reuses one
    # Clients that hung up before their response was complete.
    disconnects: int = 0

    def __post_init__(self) -> None:
        self._server: asyncio.Server | None = None
        self._connections: set[asyncio.Task[None]] = set()
        self._writers: set[asyncio.StreamWriter] = set()
        self._encoded: dict[tuple[Script, bool], list[bytes]] = {}
        self._thread: threading.Thread | None = None
        self._thread_loop: asyncio.AbstractEventLoop | None = None
        self.base_url = ""  # the OpenAI-compatible API, ending in /v1
        self.root_url = ""  # where Ollama's native API lives

    # --- lifecycle -----------------------------------------------------------------------------

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> str:
        self._server = await asyncio.start_server(self._serve, host, port, backlog=1024)
        bound = self._server.sockets[0].getsockname()[1]
        self.root_url = f"http://{host}:{bound}"
        self.base_url = f"{self.root_url}/v1"
        return self.base_url

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for task in list(self._connections):
            task.cancel()
        await asyncio.gather(*self._connections, return_exceptions=True)
        if self._server is not None:
            await self._server.wait_closed()
            self._server = None

    async def kill(self) -> None:
        """Die the way a crashed engine does: stop listening, and drop every open connection at
        once (streams mid-answer, requests still in prefill, idle keep-alive ones) without a
        proper end of the HTTP body."""
        if self._server is not None:
            self._server.close()
        for writer in list(self._writers):
            writer.transport.abort()
        for task in list(self._connections):
            task.cancel()
        await asyncio.gather(*self._connections, return_exceptions=True)

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    def run_in_thread(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve from a private event loop on a daemon thread; returns the base URL."""
        ready = threading.Event()

        def main() -> None:
            loop = asyncio.new_event_loop()
            self._thread_loop = loop
            loop.run_until_complete(self.start(host, port))
            ready.set()
            loop.run_forever()
            loop.run_until_complete(self.stop())
            loop.close()

        self._thread = threading.Thread(target=main, name="fake-upstream", daemon=True)
        self._thread.start()
        ready.wait()
        return self.base_url

    def stop_thread(self) -> None:
        if self._thread_loop is not None and self._thread is not None:
            self._thread_loop.call_soon_threadsafe(self._thread_loop.stop)
            self._thread.join()
            self._thread = self._thread_loop = None

    async def wait_for(self, predicate: Callable[[], bool], timeout: float = 2.0) -> None:
        """Wait until ``predicate()`` holds, e.g. until the server has seen a disconnect."""
        # Polling: the predicates are arbitrary expressions over counters, not events.
        async with asyncio.timeout(timeout):
            while not predicate():  # noqa: ASYNC110
                await asyncio.sleep(0.005)

    # --- HTTP ----------------------------------------------------------------------------------

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        self._connections.add(task)
        self._writers.add(writer)
        self.connections += 1
        try:
            while await self._one_exchange(reader, writer):
                pass
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            pass
        except asyncio.CancelledError:
            # stop() cancels open connections. Ending normally keeps asyncio's start_server
            # callback (Python 3.11) from logging the cancellation as an error.
            pass
        finally:
            self._connections.discard(task)
            self._writers.discard(writer)
            writer.close()

    async def _one_exchange(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> bool:
        """Serve one request; whether the connection stays open for another."""
        try:
            head = await reader.readuntil(b"\r\n\r\n")
        except asyncio.IncompleteReadError:
            return False  # the client closed an idle keep-alive connection
        request_line, *header_lines = head[:-4].decode("latin-1").split("\r\n")
        method, target, _version = request_line.split(" ", 2)
        headers: dict[str, str] = {}
        for line in header_lines:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0"))
        raw_body = await reader.readexactly(length) if length else b""
        self.bytes_received += len(head) + length
        body = orjson.loads(raw_body) if raw_body else None
        self.requests.append(ReceivedRequest(method, target, headers, body))
        keep_alive = headers.get("connection", "").lower() != "close"

        path = target.split("?", 1)[0]
        models = self.models if self.models is not None else (self.script.model,)
        if method == "GET" and path == "/api/tags":
            _write_response(writer, 200, encode_tags(models))
        elif method == "GET" and path.endswith("/models"):
            listing = {
                "object": "list",
                "data": [{"id": m, "object": "model", "owned_by": "fake"} for m in models],
            }
            _write_response(writer, 200, orjson.dumps(listing))
        elif method == "POST" and (path == "/api/chat" or path.endswith("/chat/completions")):
            request = body if isinstance(body, dict) else {}
            script = self.script_for(request) if self.script_for else self.script
            ollama = path == "/api/chat"
            return await self._chat(script, request, reader, writer, ollama) and keep_alive
        else:
            _write_response(writer, 404, b'{"error":{"message":"not found"}}')
        await writer.drain()
        return keep_alive

    async def _chat(
        self,
        script: Script,
        request: dict[str, Any],
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        ollama: bool,
    ) -> bool:
        if script.hang_before_headers:
            await self._wait_for_hangup(reader)
            return False
        if script.status is not None:
            _write_response(writer, script.status, script.status_body)
            await writer.drain()
            return True
        # Ollama streams unless told not to; OpenAI-compatible servers only when asked.
        if not request.get("stream", ollama):
            _write_response(
                writer, 200, encode_reply(script) if ollama else encode_completion(script)
            )
            await writer.drain()
            return True
        frames = self._frames(script, ollama)
        self.active_streams += 1
        try:
            writer.write(_NDJSON_HEAD if ollama else _STREAM_HEAD)
            loop = asyncio.get_running_loop()
            due = loop.time()
            for sent, frame in enumerate(frames):
                if sent == script.stall_after:
                    await self._wait_for_hangup(reader)
                    return False
                if sent == script.disconnect_after:
                    return False
                if sent and script.delay:
                    # Paced against a schedule, not sleep after sleep: a benchmark asking for
                    # 50 tokens/s gets 50, however long each write took.
                    due += script.delay
                    await asyncio.sleep(due - loop.time())
                elif not sent and script.first_event_delay:
                    await writer.drain()  # the headers go out now, as a real engine's do
                    await asyncio.sleep(script.first_event_delay)
                    due = loop.time()
                if reader.at_eof():
                    self.disconnects += 1
                    return False
                writer.write(frame)
                await writer.drain()
            if script.stall_after == len(frames):
                await self._wait_for_hangup(reader)
                return False
            writer.write(b"0\r\n\r\n")
            await writer.drain()
            return True
        except ConnectionError:
            self.disconnects += 1
            return False
        finally:
            self.active_streams -= 1

    async def _wait_for_hangup(self, reader: asyncio.StreamReader) -> None:
        with contextlib.suppress(ConnectionError):
            while await reader.read(65536):
                pass
        self.disconnects += 1

    def _frames(self, script: Script, ollama: bool) -> list[bytes]:
        frames = self._encoded.get((script, ollama))
        if frames is None:
            if script.wire is not None:
                frames = [_http_chunk(piece) for piece in script.wire]
            elif ollama:
                frames = [_http_chunk(line) for line in encode_lines(script)]
            else:
                frames = [_http_chunk(b"data: %s\n\n" % event) for event in encode_events(script)]
            self._encoded[script, ollama] = frames
        return frames


_STREAM_HEAD = (
    b"HTTP/1.1 200 OK\r\n"
    b"Content-Type: text/event-stream; charset=utf-8\r\n"
    b"Cache-Control: no-cache\r\n"
    b"Transfer-Encoding: chunked\r\n\r\n"
)


_NDJSON_HEAD = (
    b"HTTP/1.1 200 OK\r\nContent-Type: application/x-ndjson\r\nTransfer-Encoding: chunked\r\n\r\n"
)


def _write_response(writer: asyncio.StreamWriter, status: int, body: bytes) -> None:
    reason = HTTPStatus(status).phrase.encode()
    writer.write(
        b"HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
        % (status, reason, len(body), body)
    )


def _http_chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


# --- command line ------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve a scripted OpenAI-compatible engine.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--tokens", type=int, default=256, help="content tokens per answer")
    parser.add_argument("--reasoning-tokens", type=int, default=0)
    parser.add_argument("--reasoning-field", default="reasoning")
    parser.add_argument("--delay-ms", type=float, default=20.0, help="between events")
    parser.add_argument("--model", default="gpt-oss-120b")
    args = parser.parse_args(argv)
    script = Script(
        model=args.model,
        reasoning_field=args.reasoning_field or None,
        reasoning=args.reasoning_tokens,
        content=args.tokens,
        delay=args.delay_ms / 1000,
    )

    async def serve() -> None:
        fake = FakeUpstream(script)
        print(await fake.start(args.host, args.port), flush=True)
        try:
            await asyncio.Event().wait()
        finally:
            await fake.stop()

    try:
        import uvloop  # optional: only the stand-alone benchmark server wants it
    except ImportError:
        asyncio.run(serve())
    else:
        uvloop.run(serve())


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        main()
