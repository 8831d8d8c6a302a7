"""The gateways under test, each started in front of the same two fake engines.

``mamori`` runs here; LiteLLM's proxy lives in ``litellm_proxy``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from bench.overhead.procs import ROOT, BenchError, Processes, free_port, wait_ready
from bench.overhead.scenario import FAST_MODEL, SLOW_MODEL, UPSTREAM_MODEL

VENV_BIN = Path(sys.executable).parent
# How mamori is started (``serve --port N`` is appended); a profiler or a wrapper may go here.
MAMORI_COMMAND = [str(VENV_BIN / "mamori")]


@dataclass(frozen=True, slots=True)
class Gateway:
    name: str  # "mamori" or "litellm"
    pid: int
    port: int
    api_key: str
    describe: str  # one line for the header of the report


def start_mamori(
    procs: Processes, workdir: Path, slow: tuple[str, int], fast: tuple[str, int]
) -> Gateway:
    """``mamori serve`` as in production (uvloop, httptools, API keys, the whole pipeline,
    persistence and audit on SQLite) from a temporary data directory."""
    config = workdir / "mamori.toml"
    _write_config(config, slow, fast)
    env = _mamori_env(workdir, config)
    api_key = _create_api_key(env)
    port = free_port()
    proc = procs.start("mamori", [*MAMORI_COMMAND, "serve", "--port", str(port)], env)
    wait_ready(procs, "mamori", port, "/readyz", timeout=90)
    return Gateway(
        "mamori", proc.pid, port, api_key, f"mamori pid {proc.pid} on :{port}, SQLite in {workdir}"
    )


def _mamori_env(workdir: Path, config: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("MAMORI_")}
    env.update(
        MAMORI_DATA_DIR=str(workdir / "data"),
        MAMORI_CONFIG=str(config),
        MAMORI_LOCAL_ENGINE="false",
        MAMORI_BOOTSTRAP_ADMIN="false",
        MAMORI_LOG_LEVEL="WARNING",
    )
    return env


def _write_config(path: Path, slow: tuple[str, int], fast: tuple[str, int]) -> None:
    # Raw reasoning display: the comparison is a gateway passing vLLM's stream through, as LiteLLM
    # does, and the correctness check reads every reasoning chunk. (The default, hidden, would
    # replace them with a few progress events and flatter mamori.)
    path.write_text(
        f"""
reasoning_display = "raw"

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


def _create_api_key(env: dict[str, str]) -> str:
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
