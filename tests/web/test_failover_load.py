"""Failover between two endpoints of one model, with a live mamori in front of two engines.

Engine A and engine B answer with different text (" a0 a1…" / " b0 b1…"), so an answer spliced
from both, or delivered twice, is visible. Requests that had not streamed when an engine dies
(or stalls) are served by the other one; requests that had streamed end with a clear error.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
import pytest
import pytest_asyncio

from mamori.app import create_app
from mamori.domain.audit import TurnStatus
from mamori.settings import EndpointSettings, Settings
from tests.support import faces
from tests.support.conformance import TOOL_LOOP
from tests.support.fake_upstream import FakeUpstream, Script
from tests.web.conftest import Live, serve

PAIR = "pair-model"  # served by both endpoints
SOLO = "solo-model"  # served by endpoint A alone
TOKENS = 40
ANSWER = {name: "".join(f" {name}{i}" for i in range(TOKENS)) for name in ("a", "b")}
FIRST_BYTE_TIMEOUT = 1.0
SLOW_PREFILL = 0.6  # "slow-" requests on A: still without a first byte when A dies
LOAD = 80


def engine_script(name: str, body: dict[str, Any]) -> Script:
    last = body["messages"][-1]
    content = tuple(f" {name}{i}" for i in range(TOKENS))
    if last["role"] == "tool" and name == "a":
        return Script(stall_after=0)  # accepts the tool result, then sends nothing
    if last["role"] == "tool" or not last["content"].startswith(("slow-", "fast-")):
        return Script(reasoning_field=None, content=content)
    slow = last["content"].startswith("slow-") and name == "a"
    return Script(
        reasoning_field=None,
        content=content,
        delay=0.02,
        first_event_delay=SLOW_PREFILL if slow else 0.0,
    )


@dataclass
class Pair:
    live: Live
    a: FakeUpstream
    b: FakeUpstream


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def pair(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Pair]:
    a = FakeUpstream(script_for=lambda body: engine_script("a", body))
    b = FakeUpstream(script_for=lambda body: engine_script("b", body))
    await a.start()
    await b.start()
    data_dir = tmp_path_factory.mktemp("failover")
    settings = Settings(
        data_dir=data_dir,
        database_url=f"sqlite:///{data_dir / 'mamori.sqlite3'}",
        local_engine=False,
        bootstrap_admin=False,
        log_json=False,
        first_byte_timeout=FIRST_BYTE_TIMEOUT,
        idle_timeout=2,
        endpoints=[
            EndpointSettings(
                name="pair-a", url=a.base_url, residency="onprem", models=[PAIR, SOLO]
            ),
            EndpointSettings(name="pair-b", url=b.base_url, residency="onprem", models=[PAIR]),
        ],
    )
    app = create_app(settings)
    server, task, port = await serve(app)
    yield Pair(Live(f"http://127.0.0.1:{port}", a, app.state.services), a, b)
    server.should_exit = True
    await task
    await a.stop()
    await b.stop()


@pytest.fixture(autouse=True)
def _healthy(pair: Pair) -> None:
    """Each test starts with both endpoints in good standing (a failover marks one down)."""
    for name in ("pair-a", "pair-b"):
        pair.live.services.registry.mark_success(name)


@pytest.mark.parametrize(
    ("model", "answer", "error"),
    [(SOLO, "", "engine_timeout"), (PAIR, ANSWER["b"], None)],
    ids=["one-endpoint-times-out", "second-endpoint-answers"],
)
async def test_a_stall_after_a_tool_result(
    pair: Pair, model: str, answer: str, error: str | None
) -> None:
    key = await pair.live.api_key()
    async with httpx.AsyncClient(base_url=pair.live.base_url, timeout=10) as client:
        outcome = await faces.v1_stream(client, key, {"model": model, "messages": TOOL_LOOP})
    assert pair.a.requests[-1].body is not None
    assert pair.a.requests[-1].body["messages"][-1]["role"] == "tool"
    assert (outcome.error_code, outcome.content) == (error, answer)
    if error is not None:
        assert outcome.http_status == 504 and outcome.before_first_byte
        return
    assert outcome.done and outcome.finish_reason == "stop"
    assert outcome.turn_id is not None
    [record] = await pair.live.audit_rows(turn_id=outcome.turn_id)
    assert (record.endpoint, record.status) == ("pair-b", TurnStatus.OK)


@dataclass
class Seen:
    """One streamed request of the load run, as its client saw it."""

    marker: str
    started_at: float | None = None  # when the response began: mamori had a first event
    content: str = ""
    error: str | None = None
    done: bool = False
    turn_id: str | None = None


async def stream_one(client: httpx.AsyncClient, key: str, seen: Seen) -> None:
    body = {"model": PAIR, "stream": True, "messages": [{"role": "user", "content": seen.marker}]}
    headers = {"authorization": f"Bearer {key}"}
    async with client.stream("POST", "/v1/chat/completions", json=body, headers=headers) as r:
        assert r.status_code == 200, await r.aread()
        seen.started_at = time.monotonic()
        async for line in r.aiter_lines():
            if not line.startswith("data: "):
                continue
            if line == "data: [DONE]":
                seen.done = True
                continue
            chunk = orjson.loads(line[6:])
            if "error" in chunk:
                seen.error = chunk["error"]["code"]
                continue
            seen.turn_id = chunk["id"].removeprefix("chatcmpl-")
            for choice in chunk["choices"]:
                seen.content += choice["delta"].get("content") or ""


def markers_received(upstream: FakeUpstream) -> list[str]:
    """The load run's requests an engine received (earlier tests' requests left out)."""
    last = [r.body["messages"][-1]["content"] for r in upstream.requests if r.body is not None]
    return [marker for marker in last if marker.startswith(("slow-", "fast-"))]


async def test_one_of_two_endpoints_dies_under_load(pair: Pair) -> None:
    """Last in this module: engine A stays dead afterwards."""
    username = await pair.live.new_user()
    key = await pair.live.api_key(username)
    runs = [Seen(f"{'fast' if i % 2 else 'slow'}-{i}") for i in range(LOAD)]
    limits = httpx.Limits(max_connections=LOAD * 2)
    async with httpx.AsyncClient(base_url=pair.live.base_url, timeout=20, limits=limits) as client:
        tasks = [asyncio.create_task(stream_one(client, key, seen)) for seen in runs]
        fast = [s for s in runs if s.marker.startswith("fast-")]
        # Kill A once every fast request has streamed; slow ones on A are still in prefill.
        async with asyncio.timeout(10):
            while not all(s.started_at for s in fast):  # noqa: ASYNC110
                await asyncio.sleep(0.005)
        killed_at = time.monotonic()
        await pair.a.kill()
        async with asyncio.timeout(15):
            await asyncio.gather(*tasks)

    on_a, on_b = markers_received(pair.a), markers_received(pair.b)
    # Nothing generated twice on one engine; nothing that had streamed was sent again.
    assert len(on_a) == len(set(on_a)) and len(on_b) == len(set(on_b))
    failed_over = [s for s in runs if s.marker in on_a and s.marker in on_b]
    broken = [s for s in runs if s.error is not None]
    for seen in runs:
        if seen.error is not None:
            # Had streamed from A: a clear error, and a stream that does not look complete.
            assert seen.error == "engine_stream_broken" and not seen.done
            assert seen.marker in on_a and seen.marker not in on_b
            assert ANSWER["a"].startswith(seen.content) and seen.content != ANSWER["a"]
        else:
            # A whole answer from exactly one engine: never spliced, never twice.
            assert seen.done and seen.content in (ANSWER["a"], ANSWER["b"]), seen.content
        if seen in failed_over or (seen.marker in on_a and (seen.started_at or 0) > killed_at):
            assert seen.error is None and seen.content == ANSWER["b"]
    assert failed_over and broken, (len(failed_over), len(broken))
    assert all(s.marker.startswith("slow-") for s in failed_over)

    records = await pair.live.audit_when_written((await pair.live.user_row(username)).id, LOAD)
    by_turn = {r.turn_id: r for r in records}
    assert len(by_turn) == LOAD
    for seen in failed_over:
        record = by_turn[seen.turn_id]
        assert (record.endpoint, record.status) == ("pair-b", TurnStatus.OK)
    for seen in broken:
        record = by_turn[seen.turn_id]
        assert (record.endpoint, record.status, record.error_code) == (
            "pair-a",
            TurnStatus.INCOMPLETE,
            "engine_stream_broken",
        )
