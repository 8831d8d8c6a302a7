"""The load client: raw asyncio streams speaking HTTP/1.1 with keep-alive, one connection per
simulated user, the chunked framing and SSE decoded by hand, each event parsed with orjson.
It is identical for every target, and light enough to stay far from a full core."""

from __future__ import annotations

import asyncio
import math
import socket
import time
from dataclasses import dataclass, field
from typing import Any

import orjson
from bench.overhead.scenario import BIN_SECONDS, REQUEST_TIMEOUT, TOKENS


@dataclass(frozen=True, slots=True)
class Target:
    name: str  # "direct", "mamori" or "litellm"
    host: str
    port: int
    model: str
    api_key: str | None = None

    def request_bytes(self) -> bytes:
        body = orjson.dumps(
            {
                "model": self.model,
                "messages": [{"role": "user", "content": "Tell me a long story."}],
                "stream": True,
                "stream_options": {"include_usage": True},
                "max_tokens": TOKENS,
            }
        )
        head = [
            "POST /v1/chat/completions HTTP/1.1",
            f"Host: {self.host}:{self.port}",
            "Content-Type: application/json",
            "Accept: text/event-stream",
            f"Content-Length: {len(body)}",
        ]
        if self.api_key:
            head.append(f"Authorization: Bearer {self.api_key}")
        return ("\r\n".join(head) + "\r\n\r\n").encode() + body


@dataclass(slots=True)
class Result:
    started: float
    ttft: float | None = None  # seconds from sending the request to the first token chunk
    reasoning: int = 0
    content: int = 0
    usage_completion_tokens: int | None = None
    finish_reason: str | None = None
    done: bool = False
    ended: float = 0.0
    error: str | None = None
    reasoning_text: list[str] = field(default_factory=list)
    content_text: list[str] = field(default_factory=list)
    reasoning_fields: set[str] = field(default_factory=set)  # delta keys reasoning came in
    misplaced: int = 0  # content before reasoning ended, or a chunk with both
    cut: bool = False  # still streaming when the run hit its time cap (not an error)

    @property
    def tokens(self) -> int:
        return self.reasoning + self.content

    @property
    def complete(self) -> bool:
        return self.error is None and self.done and self.tokens == TOKENS


class Bins:
    """Token chunks received per 100 ms, for throughput over a window of a run."""

    def __init__(self, t0: float) -> None:
        self.t0 = t0
        self.counts: list[int] = []

    def add(self, now: float, n: int) -> None:
        i = int((now - self.t0) / BIN_SECONDS)
        counts = self.counts
        if i >= len(counts):
            counts.extend([0] * (i + 1 - len(counts)))
        counts[i] += n

    def rate(self, start: float, end: float) -> float:
        """Chunks per second in whole bins between ``start`` and ``end`` (perf_counter times)."""
        first = math.ceil((start - self.t0) / BIN_SECONDS)
        last = math.floor((end - self.t0) / BIN_SECONDS)
        if last <= first:
            return float("nan")
        return sum(self.counts[first:last]) / ((last - first) * BIN_SECONDS)


class Connection:
    __slots__ = ("reader", "writer")

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def open(cls, target: Target) -> Connection:
        reader, writer = await asyncio.open_connection(target.host, target.port, limit=1 << 20)
        sock = writer.get_extra_info("socket")
        if sock is not None:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return cls(reader, writer)

    def close(self) -> None:
        self.writer.close()


async def stream_once(
    conn: Connection, request: bytes, bins: Bins | None, keep_text: bool, result: Result
) -> bool:
    """One streamed chat completion on ``conn`` into ``result``; whether ``conn`` is reusable."""
    reader = conn.reader
    conn.writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    status_line, *header_lines = head[:-4].decode("latin-1").split("\r\n")
    status = int(status_line.split(" ", 2)[1])
    headers = {}
    for line in header_lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip().lower()
    reusable = headers.get("connection") != "close"
    if headers.get("transfer-encoding") != "chunked":
        length = int(headers.get("content-length", "0"))
        body = await reader.readexactly(length) if length else b""
        result.error = f"HTTP {status}: {body[:300].decode(errors='replace')}"
        result.ended = time.perf_counter()
        return reusable and length > 0
    if status != 200:
        result.error = f"HTTP {status}"

    buf = bytearray()  # HTTP chunked framing
    sse = bytearray()  # the body, cut into SSE events
    while True:
        data = await reader.read(65536)
        if not data:
            raise ConnectionError("the server closed the connection mid-response")
        now = time.perf_counter()
        buf += data
        finished = _dechunk(buf, sse)
        got = _read_events(sse, result, keep_text)
        if got:
            if result.ttft is None:
                result.ttft = now - result.started
            if bins is not None:
                bins.add(now, got)
        if finished:
            break
    result.ended = time.perf_counter()
    return reusable


def _dechunk(buf: bytearray, sse: bytearray) -> bool:
    """Move the complete HTTP chunks of ``buf`` into ``sse``; whether the last one came."""
    pos = 0
    finished = False
    while True:
        nl = buf.find(b"\r\n", pos)
        if nl < 0:
            break
        size = int(buf[pos:nl].split(b";", 1)[0], 16)
        if size == 0:
            if len(buf) < nl + 4:
                break
            finished = True
            pos = nl + 4
            break
        end = nl + 2 + size
        if len(buf) < end + 2:
            break
        sse += buf[nl + 2 : end]
        pos = end + 2
    del buf[:pos]
    return finished


def _read_events(sse: bytearray, result: Result, keep_text: bool) -> int:
    """Parse the complete SSE events in ``sse`` into ``result``; the token chunks among them."""
    got = 0
    while (cut := sse.find(b"\n\n")) >= 0:
        event = bytes(sse[:cut])
        del sse[: cut + 2]
        for field_line in event.split(b"\n"):
            if not field_line.startswith(b"data:"):
                continue
            payload = field_line[5:].strip()
            if payload == b"[DONE]":
                result.done = True
                continue
            got += _read_chunk(orjson.loads(payload), result, keep_text)
    return got


def _read_chunk(chunk: dict[str, Any], result: Result, keep_text: bool) -> int:
    if "error" in chunk:
        result.error = str(chunk["error"])[:300]
        return 0
    usage = chunk.get("usage")
    if usage:
        result.usage_completion_tokens = usage.get("completion_tokens")
    choices = chunk.get("choices")
    if not choices:
        return 0
    choice = choices[0]
    if choice.get("finish_reason"):
        result.finish_reason = choice["finish_reason"]
    delta = choice.get("delta") or {}
    # vLLM says "reasoning", older vLLM, SGLang and LiteLLM "reasoning_content".
    key = "reasoning" if delta.get("reasoning") else "reasoning_content"
    reasoning = delta.get(key)
    content = delta.get("content")
    got = 0
    if reasoning:
        got += 1
        result.reasoning += 1
        if result.content or content:
            result.misplaced += 1
        if keep_text:
            result.reasoning_text.append(reasoning)
            result.reasoning_fields.add(key)
    if content:
        got += 1
        result.content += 1
        if keep_text:
            result.content_text.append(content)
    return got


async def user(
    target: Target,
    requests: int,
    offset: float,
    bins: Bins | None,
    keep_text: bool = False,
    start_deadline: float | None = None,
    sink: list[Result] | None = None,
) -> list[Result]:
    """One simulated user: after ``offset`` seconds, ``requests`` streams back to back, but none
    started after ``start_deadline`` (a perf_counter time), so that a slow target cannot make
    the benchmark run for ever. Results go to ``sink`` as they end (also when cancelled)."""
    if offset:
        await asyncio.sleep(offset)
    request = target.request_bytes()
    results: list[Result] = sink if sink is not None else []
    conn: Connection | None = None
    try:
        for _ in range(requests):
            if results and start_deadline is not None and time.perf_counter() > start_deadline:
                break
            if conn is None:
                try:
                    conn = await Connection.open(target)
                except OSError as exc:
                    failed = Result(started=time.perf_counter(), error=f"connect: {exc}")
                    failed.ended = failed.started
                    results.append(failed)
                    continue
            result = Result(started=time.perf_counter())
            try:
                async with asyncio.timeout(REQUEST_TIMEOUT):
                    reusable = await stream_once(conn, request, bins, keep_text, result)
            except (OSError, asyncio.IncompleteReadError, ValueError, TimeoutError) as exc:
                result.error = f"{type(exc).__name__}: {exc}"
                result.ended = time.perf_counter()
                reusable = False
            except asyncio.CancelledError:
                result.cut = True
                result.ended = time.perf_counter()
                results.append(result)
                raise
            results.append(result)
            if not reusable and conn is not None:
                conn.close()
                conn = None
    finally:
        if conn is not None:
            conn.close()
    return results
