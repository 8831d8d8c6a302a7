"""The benchmark's subprocesses: start, watch, stop; and the CPU time each one used."""

from __future__ import annotations

import contextlib
import http.client
import os
import select
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from bench.overhead.scenario import (
    CONTENT_TOKENS,
    REASONING_FIELD,
    REASONING_TOKENS,
    UPSTREAM_MODEL,
)

ROOT = Path(__file__).resolve().parent.parent.parent


class BenchError(Exception):
    """Something is broken (not merely slow): the benchmark exits 1."""


def cpu_seconds(pid: int) -> float:
    """utime + stime of a process and its live descendants (all threads), from /proc."""
    total = 0.0
    for one in _tree(pid):
        try:
            with open(f"/proc/{one}/stat", "rb") as f:
                stat = f.read()
        except OSError:
            continue  # ended between the listing and the read
        fields = stat[stat.rindex(b")") + 2 :].split()
        total += int(fields[11]) + int(fields[12])
    return total / os.sysconf("SC_CLK_TCK")


def _tree(pid: int) -> list[int]:
    """``pid`` and its descendants: a gateway may serve from a child process."""
    found, todo = [], [pid]
    while todo:
        one = todo.pop()
        found.append(one)
        with contextlib.suppress(OSError):
            for task in os.listdir(f"/proc/{one}/task"):
                with open(f"/proc/{one}/task/{task}/children") as f:
                    todo.extend(int(child) for child in f.read().split())
    return found


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
        self,
        name: str,
        argv: list[str],
        env: dict[str, str],
        stdout: int | None = None,
        cwd: Path = ROOT,
    ) -> subprocess.Popen[bytes]:
        log_path = self.workdir / f"{name}.log"
        with open(log_path, "wb") as log:
            proc = subprocess.Popen(
                argv,
                cwd=cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=stdout if stdout is not None else log,
                stderr=log,
                start_new_session=True,  # Ctrl-C reaches us only; we stop them in order
            )
        self.procs.append((name, proc, log_path))
        return proc

    def pid(self, name: str) -> int:
        return next(proc.pid for n, proc, _ in self.procs if n == name)

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
                # Its own session: the whole group goes, children of a gateway included.
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
            if proc.stdout is not None:
                proc.stdout.close()
        self.procs.clear()


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
        REASONING_FIELD,
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


def wait_ready(procs: Processes, name: str, port: int, path: str, timeout: float) -> None:
    """Poll ``GET path`` until it answers 200; fail early when a process died."""
    deadline = time.monotonic() + timeout
    last = ""
    while time.monotonic() < deadline:
        procs.check_alive()
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        try:
            conn.request("GET", path)
            response = conn.getresponse()
            last = response.read().decode(errors="replace")
            if response.status == 200:
                return
        except OSError as exc:
            last = str(exc)
        finally:
            conn.close()
        time.sleep(0.2)
    raise BenchError(f"{name} was not ready within {timeout:g}s: {last}\n{procs.log_tail(name)}")
