"""LiteLLM's proxy as the reference gateway: installed once into a throwaway virtualenv outside
the project, configured against the same fake engines with callbacks, database, spend logs,
telemetry and caching off, one worker.

Installing it is the one thing the benchmark fetches from the package registry; mamori itself
never does. Its many dependencies stay out of mamori's lock file and virtualenv.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from bench.overhead.gateways import Gateway
from bench.overhead.procs import ROOT, Processes, free_port, wait_ready
from bench.overhead.scenario import FAST_MODEL, SLOW_MODEL, UPSTREAM_MODEL

# 1.108.x with a [proxy] extra whose pinned companions (litellm-proxy-extras,
# litellm-enterprise) are all on the registry; 1.108.8 and later pin ones that are not.
LITELLM_VERSION = "1.108.7"
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "mamori-bench"
INSTALL_TIMEOUT = 900.0


class Skipped(Exception):
    """LiteLLM cannot take part in this run; the message says why."""


def install(version: str = LITELLM_VERSION) -> Path:
    """The virtualenv holding ``litellm[proxy]==version``, created on first use and reused."""
    venv = CACHE / f"litellm-{version}"
    marker = venv / ".mamori-bench-installed"
    if marker.exists() and (venv / "bin" / "litellm").exists():
        return venv
    uv = _find_uv()
    print(f"  installing litellm[proxy]=={version} into {venv} (once) ...", flush=True)
    shutil.rmtree(venv, ignore_errors=True)
    steps = [
        [uv, "venv", "--quiet", "--python", sys.executable, str(venv)],
        [uv, "pip", "install", "--quiet", "--python", str(venv / "bin" / "python"),
         f"litellm[proxy]=={version}"],
    ]  # fmt: skip
    # Not into mamori's own virtualenv, whatever the caller's environment says.
    dropped = ("VIRTUAL_ENV", "UV_PROJECT_ENVIRONMENT")
    env = {k: v for k, v in os.environ.items() if k not in dropped}
    for argv in steps:
        try:
            done = subprocess.run(
                argv, env=env, capture_output=True, text=True, timeout=INSTALL_TIMEOUT, check=False
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise Skipped(f"{Path(argv[0]).name} {argv[1]} failed: {exc}") from None
        if done.returncode != 0:
            last = (done.stderr.strip() or done.stdout.strip()).splitlines()[-3:]
            raise Skipped(f"`{' '.join(argv[1:3])}` failed: {' / '.join(last)}")
    marker.write_text(version + "\n")
    return venv


def _find_uv() -> str:
    for candidate in (ROOT / ".tools" / "bin" / "uv", shutil.which("uv")):
        if candidate and Path(candidate).exists():
            return str(candidate)
    raise Skipped("uv not found (make bootstraps it into .tools/)")


def start(
    procs: Processes, workdir: Path, venv: Path, slow: tuple[str, int], fast: tuple[str, int]
) -> Gateway:
    """``litellm --config ... --num_workers 1`` in front of both fakes."""
    config = workdir / "litellm.yaml"
    # JSON is YAML: no YAML writer needed here.
    config.write_text(json.dumps(_config(slow, fast), indent=2))
    master_key = "sk-bench-" + os.urandom(16).hex()
    port = free_port()
    argv = [
        str(venv / "bin" / "litellm"),
        *("--config", str(config), "--host", "127.0.0.1", "--port", str(port)),
        *("--num_workers", "1"),
    ]
    # Its own working directory: LiteLLM reads a .env file from there.
    proc = procs.start("litellm", argv, _env(master_key), cwd=workdir)
    wait_ready(procs, "litellm", port, "/health/readiness", timeout=180)
    return Gateway(
        "litellm",
        proc.pid,
        port,
        master_key,
        f"LiteLLM {LITELLM_VERSION} pid {proc.pid} on :{port}, 1 worker, no database",
    )


def _config(slow: tuple[str, int], fast: tuple[str, int]) -> dict[str, object]:
    def deployment(name: str, engine: tuple[str, int]) -> dict[str, object]:
        return {
            "model_name": name,
            "litellm_params": {
                "model": f"openai/{UPSTREAM_MODEL}",
                "api_base": f"http://{engine[0]}:{engine[1]}/v1",
                "api_key": "unused",
            },
        }

    return {
        "model_list": [deployment(SLOW_MODEL, slow), deployment(FAST_MODEL, fast)],
        "litellm_settings": {
            "callbacks": [],
            "success_callback": [],
            "failure_callback": [],
            "cache": False,
            "telemetry": False,
            "set_verbose": False,
            "json_logs": False,
        },
        "general_settings": {
            "disable_spend_logs": True,
            "disable_error_logs": True,
            "store_model_in_db": False,
        },
    }


def _env(master_key: str) -> dict[str, str]:
    # No database or cache URL leaks in from the caller's environment.
    dropped = ("DATABASE_URL", "REDIS_", "LITELLM_", "VIRTUAL_ENV", "MAMORI_")
    env = {k: v for k, v in os.environ.items() if not k.startswith(dropped)}
    env.update(
        LITELLM_MASTER_KEY=master_key,
        LITELLM_LOG="WARNING",  # also turns uvicorn's access log off, as in mamori
        LITELLM_LOCAL_MODEL_COST_MAP="True",  # the bundled cost map, no fetch at start-up
        LITELLM_DONT_SHOW_FEEDBACK_BOX="true",
        DISABLE_SCHEMA_UPDATE="true",
        NO_PROXY="127.0.0.1,localhost",
    )
    return env
