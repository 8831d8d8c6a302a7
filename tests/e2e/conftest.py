"""One real `mamori serve` with the real embedded engine, shared by every end-to-end test.

Starting it costs seconds on two cores, so it starts once per session; tests create their own
users and conversations. Without the `local` extra the tests skip — except under CI=true, where
no test may be skipped for a missing tool.
"""

from __future__ import annotations

import importlib.util
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

PASSWORD = "e2e-password-long-enough"
MAMORI = str(Path(sys.executable).with_name("mamori"))


def _need(condition: bool, reason: str) -> None:
    if condition:
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"{reason} (CI must not skip)")
    pytest.skip(reason)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    url: str
    env: dict[str, str]
    process: subprocess.Popen[bytes]
    log: Path
    data_dir: Path

    def cli(self, *args: str, input: str | None = None) -> str:
        done = subprocess.run(
            [MAMORI, *args], env=self.env, input=input, capture_output=True, text=True, timeout=60
        )
        assert done.returncode == 0, done.stderr
        return done.stdout

    def new_user(self) -> str:
        name = f"e2e-{uuid.uuid4().hex[:8]}"
        self.cli("users", "create", name, input=PASSWORD + "\n")
        return name

    def engine_pids(self) -> list[int]:
        """The embedded llama.cpp server processes under this mamori."""
        return [
            pid for pid in _descendants(self.process.pid) if b"llama_cpp.server" in _cmdline(pid)
        ]

    def kill_engine(self) -> int:
        [engine] = self.engine_pids()
        os.kill(engine, signal.SIGKILL)
        return engine

    def wait_engine_back(self, old_pid: int, timeout: float = 60.0) -> None:
        """Until the supervisor has restarted the engine and the new one answers.

        Asks the engine itself: mamori's /readyz caches its probes for a moment, so it may
        still report the engine that was just killed.
        """
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            pids = [pid for pid in self.engine_pids() if pid != old_pid]
            if pids:
                args = _cmdline(pids[0]).split(b"\0")
                port = int(args[args.index(b"--port") + 1])
                try:
                    url = f"http://127.0.0.1:{port}/v1/models"
                    if httpx.get(url, timeout=2).status_code == 200:
                        return
                except httpx.HTTPError:
                    pass
            time.sleep(0.3)
        raise AssertionError("the embedded engine did not come back")

    def wait_ready(self, timeout: float = 180.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"mamori exited:\n{self.log.read_text()[-3000:]}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.3)
        raise RuntimeError(f"mamori not ready in {timeout}s:\n{self.log.read_text()[-3000:]}")


def _descendants(pid: int) -> list[int]:
    found: list[int] = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            children = (task / "children").read_text().split()
        except OSError:
            continue
        for child in map(int, children):
            found += [child, *_descendants(child)]
    return found


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    _need(importlib.util.find_spec("llama_cpp") is not None, "the `local` extra is not installed")
    data_dir = tmp_path_factory.mktemp("e2e-data")
    port = _free_port()
    config = data_dir / "mamori.toml"
    # Short answers keep the suite fast (the base model would otherwise fill its 512-token
    # cap), yet long enough, a few seconds, for the tests that kill the engine mid-answer.
    config.write_text('[models."gemma-3-270m"]\nmax_output_tokens = 160\n')
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith("MAMORI_")},
        "MAMORI_CONFIG": str(config),
        "MAMORI_DATA_DIR": str(data_dir),
        "MAMORI_PORT": str(port),
        "MAMORI_BOOTSTRAP_ADMIN": "false",
        "MAMORI_LOCAL_THREADS": "2",
        "MAMORI_LOG_LEVEL": "INFO",
    }
    log = data_dir / "serve.log"
    with log.open("wb") as sink:
        process = subprocess.Popen(
            [MAMORI, "serve"], env=env, stdout=sink, stderr=subprocess.STDOUT, cwd=data_dir
        )
    server = Server(f"http://127.0.0.1:{port}", env, process, log, data_dir)
    try:
        server.wait_ready()
        yield server
    finally:
        engines = server.engine_pids()
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    # Shutting mamori down must not leave its engine behind.
    time.sleep(0.5)
    assert [pid for pid in engines if Path(f"/proc/{pid}").exists() and _cmdline(pid)] == []
