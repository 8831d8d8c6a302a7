"""What mamori adds on top of the engine: time to first token, throughput and CPU per chunk.

Run from the repository root (``make bench``)::

    .venv/bin/python bench/gateway_overhead.py [--quick]

Three processes, so that none shares a GIL with another: this one (the load client), the fake
engine (``tests.support.fake_upstream``; two of them, one streaming at 20 ms a token and one as
fast as it can) and ``mamori serve`` in front of both, with authentication, persistence and audit
as always. The same light client (raw asyncio streams, HTTP/1.1 keep-alive, one connection per
simulated user) streams chat completions from the engine directly ("direct") and through mamori
("mamori"), alternating between the two, and reports mamori's cost as the difference.

It reports, it does not gate: missed targets still exit 0. Request errors, short streams or a
failed correctness check exit 1.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import http.client
import importlib.metadata
import math
import os
import platform
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import orjson

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
# How mamori is started (``serve --port N`` is appended); a profiler or a wrapper may go here.
MAMORI_COMMAND = [str(VENV_BIN / "mamori")]

# The engine's answer: reasoning first, then content, one token per chunk, then usage.
REASONING_TOKENS = 64
CONTENT_TOKENS = 192
TOKENS = REASONING_TOKENS + CONTENT_TOKENS
DELAY_MS = 20.0
UPSTREAM_MODEL = "gpt-oss-120b"
SLOW_MODEL = "bench-20ms"  # mamori's names for the model on the two fakes
FAST_MODEL = "bench-nodelay"
# Events per stream: role, the tokens, finish, usage, [DONE]; the fake sleeps between events.
EVENTS = 1 + TOKENS + 3
STREAM_SECONDS = (EVENTS - 1) * DELAY_MS / 1000
EXPECTED_REASONING = "".join(f" r{i}" for i in range(REASONING_TOKENS))
EXPECTED_CONTENT = "".join(f" t{i}" for i in range(CONTENT_TOKENS))

TARGET_ADDED_TTFT_P50_MS = 5.0
TARGET_THROUGHPUT_RATIO = 0.9
REQUEST_TIMEOUT = 120.0
BIN_SECONDS = 0.1


# --- processes ---------------------------------------------------------------------------------


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process (all its threads), from /proc."""
    with open(f"/proc/{pid}/stat", "rb") as f:
        stat = f.read()
    fields = stat[stat.rindex(b")") + 2 :].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def own_cpu_seconds() -> float:
    t = os.times()
    return t.user + t.system


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


class Processes:
    """Every subprocess started here; all of them are stopped by ``stop_all``."""

    def __init__(self, workdir: Path) -> None:
        self.workdir = workdir
        self.procs: list[tuple[str, subprocess.Popen[bytes], Path]] = []

    def start(
        self, name: str, argv: list[str], env: dict[str, str], stdout: int | None = None
    ) -> subprocess.Popen[bytes]:
        log_path = self.workdir / f"{name}.log"
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(
                argv,
                cwd=ROOT,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=stdout if stdout is not None else log,
                stderr=log,
                start_new_session=True,  # Ctrl-C reaches us only; we stop them in order
            )
        self.procs.append((name, proc, log_path))
        return proc

    def log_tail(self, name: str, lines: int = 30) -> str:
        for n, _, path in self.procs:
            if n == name and path.exists():
                return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
        return ""

    def check_alive(self) -> None:
        for name, proc, _ in self.procs:
            if proc.poll() is not None:
                raise BenchError(f"{name} exited with {proc.returncode}:\n{self.log_tail(name)}")

    def stop_all(self) -> None:
        for _, proc, _ in reversed(self.procs):
            if proc.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 8
        for _, proc, _ in reversed(self.procs):
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                with contextlib.suppress(ProcessLookupError):
                    proc.kill()
                proc.wait()
            if proc.stdout is not None:
                proc.stdout.close()
        self.procs.clear()


class BenchError(Exception):
    """Something is broken (not merely slow): the benchmark exits 1."""


def start_fake(procs: Processes, name: str, delay_ms: float) -> tuple[str, int]:
    """Start a fake engine; its (host, port)."""
    argv = [
        sys.executable,
        "-m",
        "tests.support.fake_upstream",
        "--port",
        "0",
        "--tokens",
        str(CONTENT_TOKENS),
        "--reasoning-tokens",
        str(REASONING_TOKENS),
        "--reasoning-field",
        "reasoning",
        "--delay-ms",
        str(delay_ms),
        "--model",
        UPSTREAM_MODEL,
    ]
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = procs.start(name, argv, env, stdout=subprocess.PIPE)
    assert proc.stdout is not None
    ready, _, _ = select.select([proc.stdout], [], [], 30)
    line = proc.stdout.readline().decode().strip() if ready else ""
    if not line.startswith("http://"):
        procs.check_alive()
        raise BenchError(f"{name} did not report its address (got {line!r})")
    hostport = line.removeprefix("http://").split("/", 1)[0]
    host, port = hostport.rsplit(":", 1)
    return host, int(port)


def mamori_env(workdir: Path, config: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAMORI_")}
    env.update(
        MAMORI_DATA_DIR=str(workdir / "data"),
        MAMORI_CONFIG=str(config),
        MAMORI_LOCAL_ENGINE="false",
        MAMORI_BOOTSTRAP_ADMIN="false",
        MAMORI_LOG_LEVEL="WARNING",
    )
    return env


def write_config(path: Path, slow: tuple[str, int], fast: tuple[str, int]) -> None:
    path.write_text(
        f"""
[[endpoints]]
name = "fake-20ms"
url = "http://{slow[0]}:{slow[1]}/v1"
dialect = "vllm"
residency = "onprem"
models = {{ "{SLOW_MODEL}" = "{UPSTREAM_MODEL}" }}

[[endpoints]]
name = "fake-nodelay"
url = "http://{fast[0]}:{fast[1]}/v1"
dialect = "vllm"
residency = "onprem"
models = {{ "{FAST_MODEL}" = "{UPSTREAM_MODEL}" }}

[models.{SLOW_MODEL}]
display_name = "fake engine, 20 ms a token"

[models.{FAST_MODEL}]
display_name = "fake engine, no delay"
"""
    )


def create_api_key(env: dict[str, str]) -> str:
    mamori = str(VENV_BIN / "mamori")
    password = "bench-" + os.urandom(12).hex() + "-Passw0rd!"
    done = subprocess.run(
        [mamori, "users", "create", "bench"],
        input=password + "\n",
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    if done.returncode != 0:
        raise BenchError(f"mamori users create failed: {done.stderr.strip()}")
    done = subprocess.run(
        [mamori, "keys", "create", "bench"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    key = done.stdout.strip().splitlines()[0] if done.stdout.strip() else ""
    if done.returncode != 0 or not key:
        raise BenchError(f"mamori keys create failed: {done.stderr.strip()}")
    return key


def wait_ready(procs: Processes, port: int, timeout: float = 90.0) -> None:
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        procs.check_alive()
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        try:
            conn.request("GET", "/readyz")
            response = conn.getresponse()
            last = response.read().decode(errors="replace")
            if response.status == 200:
                return
        except OSError as exc:
            last = str(exc)
        finally:
            conn.close()
        time.sleep(0.2)
    raise BenchError(
        f"mamori was not ready within {timeout:g}s: {last}\n{procs.log_tail('mamori')}"
    )


# --- the load client ---------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Target:
    name: str  # "direct" or "mamori"
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
    in_content = False
    while True:
        data = await reader.read(65536)
        if not data:
            raise ConnectionError("the server closed the connection mid-response")
        now = time.perf_counter()
        buf += data
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
                chunk = orjson.loads(payload)
                if "error" in chunk:
                    result.error = str(chunk["error"])[:300]
                    continue
                usage = chunk.get("usage")
                if usage:
                    result.usage_completion_tokens = usage.get("completion_tokens")
                choices = chunk.get("choices")
                if not choices:
                    continue
                choice = choices[0]
                if choice.get("finish_reason"):
                    result.finish_reason = choice["finish_reason"]
                delta = choice.get("delta") or {}
                reasoning = delta.get("reasoning") or delta.get("reasoning_content")
                content = delta.get("content")
                if reasoning:
                    result.reasoning += 1
                    got += 1
                    if in_content or content:
                        result.misplaced += 1
                    if keep_text:
                        result.reasoning_text.append(reasoning)
                if content:
                    in_content = True
                    result.content += 1
                    got += 1
                    if keep_text:
                        result.content_text.append(content)
        if got:
            if result.ttft is None:
                result.ttft = now - result.started
            if bins is not None:
                bins.add(now, got)
        if finished:
            break
    result.ended = time.perf_counter()
    return reusable


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


@dataclass
class Run:
    target: str
    concurrency: int
    results: list[Result]
    wall: float
    steady_rate: float  # token chunks/s while all users were active
    mamori_cpu: float  # CPU seconds mamori used during the run
    client_cpu: float
    fake_cpu: float
    measured: list[Result]  # the results whose TTFT counts (started at full load)
    skipped: int  # requests not started: the run was over its time budget
    cut: int  # streams stopped at the run's time cap

    @property
    def tokens(self) -> int:
        return sum(r.tokens for r in self.results)


async def run_load(
    target: Target,
    concurrency: int,
    requests_per_user: int,
    stagger: float,
    pids: dict[str, int],
) -> Run:
    """``concurrency`` users; user i starts at i * stagger / concurrency, so that arrivals are
    spread evenly over one stream's duration instead of arriving as one burst."""
    t0 = time.perf_counter()
    bins = Bins(t0)
    # A paced run starts no request after 1.2 times its duration at the engine's pace, and
    # stops streams still running at 2.5 times: a slow target costs minutes, not hours.
    paced = stagger + requests_per_user * STREAM_SECONDS
    deadline = t0 + 1.2 * paced if stagger else None
    cap = 2.5 * paced + 5 if stagger else None
    cpu_m, cpu_f, cpu_c = cpu_seconds(pids["mamori"]), cpu_seconds(pids["fake"]), own_cpu_seconds()
    per_user: list[list[Result]] = [[] for _ in range(concurrency)]
    tasks = [
        asyncio.create_task(
            user(target, requests_per_user, i * stagger / concurrency, bins, False, deadline, sink)
        )
        for i, sink in enumerate(per_user)
    ]
    _, unfinished = await asyncio.wait(tasks, timeout=cap)
    for task in unfinished:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    end = time.perf_counter()
    cpu_m = cpu_seconds(pids["mamori"]) - cpu_m
    cpu_f = cpu_seconds(pids["fake"]) - cpu_f
    cpu_c = own_cpu_seconds() - cpu_c
    results = [r for rs in per_user for r in rs]
    # Full load: from the last user's first request until the first user is done.
    full_from = t0 + stagger * (concurrency - 1) / concurrency
    full_until = min((rs[-1].ended for rs in per_user if rs), default=end)
    if stagger and requests_per_user > 1 and full_until - full_from > 1.0:
        steady = bins.rate(full_from, full_until)
        measured = [r for r in results if full_from <= r.started <= full_until]
        if len(measured) < min(20, concurrency):
            # A target so slow that users never got to their next request: count the streams
            # started once at least half of the users were streaming.
            half = t0 + stagger / 2
            measured = [r for r in results if half <= r.started <= full_until]
    else:
        steady = sum(r.tokens for r in results) / (end - t0)
        measured = results
    skipped = concurrency * requests_per_user - len(results)
    cut = sum(1 for r in results if r.cut)
    measured = [r for r in measured if not r.cut]
    return Run(
        target.name,
        concurrency,
        results,
        end - t0,
        steady,
        cpu_m,
        cpu_c,
        cpu_f,
        measured,
        skipped,
        cut,
    )


# --- statistics and the report -----------------------------------------------------------------


def percentile(values: list[float], p: float) -> float:
    """Linear interpolation between closest ranks."""
    if not values:
        return float("nan")
    data = sorted(values)
    k = (len(data) - 1) * p / 100
    lo, hi = math.floor(k), math.ceil(k)
    return data[lo] + (data[hi] - data[lo]) * (k - lo)


def ttfts_ms(runs: list[Run]) -> list[float]:
    return [r.ttft * 1000 for run in runs for r in run.measured if r.ttft is not None]


def problems(runs: list[Run]) -> list[str]:
    found = []
    for run in runs:
        for r in run.results:
            if r.cut:
                continue
            if r.error is not None:
                found.append(f"{run.target} c={run.concurrency}: {r.error}")
            elif not r.complete:
                found.append(
                    f"{run.target} c={run.concurrency}: {r.tokens}/{TOKENS} tokens, done={r.done}"
                )
            elif r.misplaced:
                found.append(f"{run.target} c={run.concurrency}: reasoning out of place")
    return found


def fmt(value: float, digits: int = 1) -> str:
    return "n/a" if math.isnan(value) else f"{value:.{digits}f}"


@dataclass
class Level:
    concurrency: int
    direct: list[Run]
    mamori: list[Run]


def print_table(levels: list[Level]) -> None:
    header = (
        f"{'conc':>5} {'n':>5} | {'direct TTFT ms':>15} | {'mamori TTFT ms':>15} |"
        f" {'ADDED TTFT ms':>15} | {'direct tok/s':>12} {'mamori tok/s':>12} {'ratio':>6} |"
        f" {'mamori CPU-s/1k chunks':>22}"
    )
    sub = (
        f"{'':>5} {'':>5} | {'p50':>7} {'p99':>7} | {'p50':>7} {'p99':>7} | {'p50':>7} {'p99':>7} |"
        f" {'':>12} {'':>12} {'':>6} |"
    )
    print(header)
    print(sub)
    print("-" * len(header))
    for level in levels:
        d, m = ttfts_ms(level.direct), ttfts_ms(level.mamori)
        d50, d99, m50, m99 = (
            percentile(d, 50),
            percentile(d, 99),
            percentile(m, 50),
            percentile(m, 99),
        )
        d_rate = _mean_rate(level.direct)
        m_rate = _mean_rate(level.mamori)
        m_tokens = sum(run.tokens for run in level.mamori)
        m_cpu = sum(run.mamori_cpu for run in level.mamori)
        print(
            f"{level.concurrency:>5} {len(m):>5} | {fmt(d50):>7} {fmt(d99):>7} |"
            f" {fmt(m50):>7} {fmt(m99):>7} | {fmt(m50 - d50):>7} {fmt(m99 - d99):>7} |"
            f" {fmt(d_rate, 0):>12} {fmt(m_rate, 0):>12} {fmt(m_rate / d_rate, 3):>6} |"
            f" {fmt(m_cpu / (m_tokens / 1000), 4):>22}"
        )


def _mean_rate(runs: list[Run]) -> float:
    return sum(run.steady_rate for run in runs) / len(runs)


def print_side_load(levels: list[Level]) -> None:
    print("\nCPU of each process while the runs above lasted (% of one core, mean over the runs):")
    print(f"{'conc':>5} {'target':>7} | {'client':>7} {'fake':>7} {'mamori':>7} | {'wall s':>7}")
    for level in levels:
        for runs in (level.direct, level.mamori):
            wall = sum(r.wall for r in runs)
            print(
                f"{level.concurrency:>5} {runs[0].target:>7} |"
                f" {100 * sum(r.client_cpu for r in runs) / wall:>6.0f}%"
                f" {100 * sum(r.fake_cpu for r in runs) / wall:>6.0f}%"
                f" {100 * sum(r.mamori_cpu for r in runs) / wall:>6.0f}% | {wall:>7.1f}"
            )


# --- the benchmark -----------------------------------------------------------------------------


async def verify(direct: Target, mamori: Target) -> None:
    """One stream each way must carry every token, reasoning and content in their fields."""
    for target in (direct, mamori):
        (result,) = await user(target, 1, 0.0, None, keep_text=True)
        what = f"correctness ({target.name})"
        if result.error is not None:
            raise BenchError(f"{what}: {result.error}")
        checks = {
            "all [DONE]": result.done,
            f"{REASONING_TOKENS} reasoning chunks": result.reasoning == REASONING_TOKENS,
            f"{CONTENT_TOKENS} content chunks": result.content == CONTENT_TOKENS,
            "reasoning text in the reasoning field": "".join(result.reasoning_text)
            == EXPECTED_REASONING,
            "content text in the content field": "".join(result.content_text) == EXPECTED_CONTENT,
            "reasoning before content": result.misplaced == 0,
            "finish_reason stop": result.finish_reason == "stop",
            f"usage {TOKENS} completion tokens": result.usage_completion_tokens == TOKENS,
        }
        failed = [name for name, ok in checks.items() if not ok]
        if failed:
            raise BenchError(f"{what} failed: {', '.join(failed)}")
        ttft = result.ttft * 1000 if result.ttft is not None else float("nan")
        print(
            f"  {target.name:<7} :{target.port} ok: {result.reasoning} reasoning +"
            f" {result.content} content chunks in their fields, usage, finish_reason, [DONE];"
            f" TTFT {ttft:.1f} ms"
        )


async def warm(target: Target, concurrency: int) -> list[Result]:
    """Open mamori's pooled upstream connections, as a server that has been running would."""
    per_user = await asyncio.gather(*(user(target, 1, 0.0, None) for _ in range(concurrency)))
    return [r for rs in per_user for r in rs]


@dataclass
class Plan:
    levels: tuple[tuple[int, int, int], ...]  # (concurrency, requests per user, repetitions)
    max_concurrency: int
    max_requests_per_user: int
    max_repetitions: int


FULL = Plan(
    levels=((200, 2, 2), (50, 2, 2), (1, 2, 2)),
    max_concurrency=64,
    max_requests_per_user=3,
    max_repetitions=2,
)
QUICK = Plan(
    levels=((200, 2, 1), (50, 2, 1), (1, 2, 1)),
    max_concurrency=64,
    max_requests_per_user=2,
    max_repetitions=1,
)
# Seconds, not minutes: checks that the benchmark itself works (nothing is measured seriously).
SMOKE = Plan(
    levels=((20, 2, 1), (1, 1, 1)), max_concurrency=8, max_requests_per_user=1, max_repetitions=1
)


async def bench(
    plan: Plan,
    slow: tuple[str, int],
    fast: tuple[str, int],
    mamori_port: int,
    api_key: str,
    pids: dict[str, int],
) -> int:
    direct = Target("direct", slow[0], slow[1], UPSTREAM_MODEL)
    through = Target("mamori", "127.0.0.1", mamori_port, SLOW_MODEL, api_key)
    direct_fast = Target("direct", fast[0], fast[1], UPSTREAM_MODEL)
    through_fast = Target("mamori", "127.0.0.1", mamori_port, FAST_MODEL, api_key)

    print("\nCorrectness:")
    await verify(direct, through)
    await verify(direct_fast, through_fast)

    top = max(c for c, _, _ in plan.levels)
    print(f"\nWarming mamori's upstream connections ({top} streams, not measured) ...")
    warmed = await warm(through, top) + await warm(through_fast, plan.max_concurrency)
    broken = [r for r in warmed if not r.complete]
    if broken:
        raise BenchError(f"warm-up: {len(broken)} incomplete streams, e.g. {broken[0]}")

    levels: list[Level] = []
    all_runs: list[Run] = []
    for concurrency, per_user, reps in plan.levels:
        stagger = STREAM_SECONDS if concurrency > 1 else 0.0
        level = Level(concurrency, [], [])
        for rep in range(reps):
            # Alternate which goes first, so drift on a shared machine hits both alike.
            order = (direct, through) if rep % 2 == 0 else (through, direct)
            for target in order:
                pids_now = {**pids, "fake": pids["fake-20ms"]}
                run = await run_load(target, concurrency, per_user, stagger, pids_now)
                (level.direct if target.name == "direct" else level.mamori).append(run)
                all_runs.append(run)
                errors = sum(1 for r in run.results if not r.complete and not r.cut)
                print(
                    f"  c={concurrency:<4} {target.name:<7} rep {rep + 1}/{reps}:"
                    f" {len(run.results)} streams, {run.tokens} tokens in {run.wall:.1f}s,"
                    f" {run.steady_rate:.0f} tok/s at full load, errors {errors}"
                    + (f", {run.skipped} not started (time budget)" if run.skipped else "")
                    + (f", {run.cut} stopped at the time cap" if run.cut else ""),
                    flush=True,
                )
        levels.append(level)
    levels.sort(key=lambda lv: lv.concurrency)

    print(f"\nMaximum throughput (fake without delay, {plan.max_concurrency} concurrent):")
    max_runs: dict[str, list[Run]] = {"direct": [], "mamori": []}
    for rep in range(plan.max_repetitions):
        for target in (direct_fast, through_fast) if rep % 2 == 0 else (through_fast, direct_fast):
            pids_now = {**pids, "fake": pids["fake-nodelay"]}
            run = await run_load(
                target, plan.max_concurrency, plan.max_requests_per_user, 0.0, pids_now
            )
            max_runs[target.name].append(run)
            all_runs.append(run)
            print(
                f"  {target.name:<7} rep {rep + 1}/{plan.max_repetitions}:"
                f" {len(run.results)} streams, {run.tokens} chunks in {run.wall:.2f}s"
                f" = {run.tokens / run.wall:.0f} chunks/s",
                flush=True,
            )

    found = problems(all_runs)
    total = sum(len(run.results) for run in all_runs)
    print("\n" + "=" * 100)
    print(
        f"Streams: {REASONING_TOKENS} reasoning + {CONTENT_TOKENS} content token chunks at"
        f" {DELAY_MS:g} ms each (~{STREAM_SECONDS:.2f} s a stream, ideal"
        f" {TOKENS / STREAM_SECONDS:.1f} tok/s per stream)."
    )
    print(
        "TTFT: request sent -> first reasoning/content chunk, over the streams started at full"
        " load;\ntok/s: token chunks per second at full load (all users streaming)."
    )
    print()
    print_table(levels)
    print()
    d_rate = sum(r.tokens for r in max_runs["direct"]) / sum(r.wall for r in max_runs["direct"])
    m_rate = sum(r.tokens for r in max_runs["mamori"]) / sum(r.wall for r in max_runs["mamori"])
    m_cpu = sum(r.mamori_cpu for r in max_runs["mamori"])
    m_tokens = sum(r.tokens for r in max_runs["mamori"])
    m_ttft = ttfts_ms(max_runs["mamori"])
    d_ttft = ttfts_ms(max_runs["direct"])
    print(
        f"max throughput ({plan.max_concurrency} concurrent, no delay,"
        f" {sum(len(r.results) for r in max_runs['mamori'])} streams each):"
        f" direct {d_rate:.0f} chunks/s, mamori {m_rate:.0f} chunks/s,"
        f" ratio {m_rate / d_rate:.3f}; mamori CPU-s/1k chunks {m_cpu / (m_tokens / 1000):.4f};"
        f" TTFT p50 direct {fmt(percentile(d_ttft, 50))} ms, mamori"
        f" {fmt(percentile(m_ttft, 50))} ms"
    )
    print_side_load([*levels, Level(plan.max_concurrency, max_runs["direct"], max_runs["mamori"])])

    print("\nTargets (issue), at 200 streams:")
    at200 = next((lv for lv in levels if lv.concurrency == 200), None)
    if at200 is None:
        print("  (not measured by this plan)")
    else:
        added = percentile(ttfts_ms(at200.mamori), 50) - percentile(ttfts_ms(at200.direct), 50)
        ratio = _mean_rate(at200.mamori) / _mean_rate(at200.direct)
        verdict = "met" if added < TARGET_ADDED_TTFT_P50_MS else "MISSED"
        print(f"  added TTFT p50 < {TARGET_ADDED_TTFT_P50_MS:g} ms: {added:.2f} ms -> {verdict}")
        verdict = "met" if ratio >= TARGET_THROUGHPUT_RATIO else "MISSED"
        print(f"  throughput >= {TARGET_THROUGHPUT_RATIO:g}x direct: {ratio:.3f}x -> {verdict}")
    cut = sum(run.cut for run in all_runs)
    skipped = sum(run.skipped for run in all_runs)
    print(f"\nRequests: {total}, failed or incomplete: {len(found)}", end="")
    print(
        f"; over the time budget: {skipped} not started, {cut} stopped while streaming"
        if cut or skipped
        else ""
    )
    for line in found[:10]:
        print(f"  {line}")
    return 1 if found else 0


def environment() -> None:
    load = os.getloadavg()
    model = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    print("mamori gateway overhead benchmark")
    print(
        f"  python {platform.python_version()} ({platform.python_implementation()}),"
        f" {os.cpu_count()} cores{f' ({model})' if model else ''}, {platform.system()}"
        f" {platform.release()}"
    )
    print(f"  load average before the run: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    try:
        loop = f"uvloop {importlib.metadata.version('uvloop')}"
    except importlib.metadata.PackageNotFoundError:
        loop = "the default asyncio loop"
    print(f"  client: raw asyncio streams (HTTP/1.1 keep-alive) on {loop}")


@contextlib.contextmanager
def terminate_on_sigterm() -> Iterator[None]:
    def handler(signum: int, frame: Any) -> None:
        raise KeyboardInterrupt

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def run_async(main: Callable[[], Any]) -> Any:
    try:
        import uvloop
    except ImportError:
        return asyncio.run(main())
    return uvloop.run(main())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="one repetition per level")
    parser.add_argument("--smoke", action="store_true", help="a few seconds: does it work?")
    parser.add_argument(
        "--hold",
        type=float,
        default=0.0,
        help="after the runs, keep everything up this many seconds (to attach a profiler)",
    )
    args = parser.parse_args(argv)
    plan = SMOKE if args.smoke else QUICK if args.quick else FULL

    environment()
    workdir = Path(tempfile.mkdtemp(prefix="mamori-bench-"))
    procs = Processes(workdir)
    started = time.monotonic()
    try:
        with terminate_on_sigterm():
            slow = start_fake(procs, "fake-20ms", DELAY_MS)
            fast = start_fake(procs, "fake-nodelay", 0.0)
            config = workdir / "mamori.toml"
            write_config(config, slow, fast)
            env = mamori_env(workdir, config)
            api_key = create_api_key(env)
            port = free_port()
            mamori = procs.start("mamori", [*MAMORI_COMMAND, "serve", "--port", str(port)], env)
            wait_ready(procs, port)
            pids = {name: proc.pid for name, proc, _ in procs.procs}
            print(
                f"  mamori pid {mamori.pid} on 127.0.0.1:{port}; fakes on :{slow[1]} (20 ms),"
                f" :{fast[1]} (no delay); SQLite in {workdir / 'data'}"
            )
            code = run_async(lambda: bench(plan, slow, fast, port, api_key, pids))
            procs.check_alive()
            if args.hold:
                print(f"holding for {args.hold:g}s", flush=True)
                time.sleep(args.hold)
    except BenchError as exc:
        print(f"\nBROKEN: {exc}", file=sys.stderr)
        code = 1
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        code = 130
    finally:
        procs.stop_all()
        shutil.rmtree(workdir, ignore_errors=True)
    print(f"\n(total {time.monotonic() - started:.0f} s)")
    return int(code)


if __name__ == "__main__":
    sys.exit(main())
