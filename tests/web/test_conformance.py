"""The gpt-oss conformance matrix, through both faces of a live mamori.

Every engine dialect × every behaviour of ``tests/support/conformance.py`` goes through
``/v1/chat/completions`` (streamed and not) and the workspace's SSE path. Whatever the engine
did, a client sees a clean answer, reasoning only as reasoning, whole tool calls, or a clear
error; never harmony markup, never chain of thought inside the answer.

The workspace offers no tools, so there a tool call (native or leaked) ends the turn with
``engine_unrequested_tool_call``, a localised message, instead of an empty answer.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
import pytest_asyncio

from mamori.app import create_app
from mamori.errors import http_status_for
from mamori.settings import EndpointSettings, Settings
from tests.support import faces
from tests.support.conformance import CASES, DIALECTS, TOOL_LOOP, Case, DialectCase
from tests.support.fake_upstream import FakeUpstream, Script
from tests.web.conftest import Live, serve

FIRST_BYTE_TIMEOUT = 0.25  # the stall case waits this long, once per dialect and face
WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "parameters": {"type": "object", "properties": {"city": {"type": "string"}}},
    },
}


@dataclass
class Engines:
    live: Live
    key: str
    browser: httpx.AsyncClient  # signed in, for the workspace face
    api: httpx.AsyncClient  # for /v1; one client: making one costs more than a case
    case: Case | None = None

    def script_for(self, body: dict[str, Any]) -> Script:
        assert self.case is not None
        [dialect] = [d for d in DIALECTS if d.model == body["model"]]
        return self.case.script_for(dialect)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def engines(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Engines]:
    """One live mamori with an endpoint per dialect, all in front of one scripted engine."""
    holder: list[Engines] = []
    upstream = FakeUpstream(script_for=lambda body: holder[0].script_for(body))
    await upstream.start()
    origin = upstream.base_url.removesuffix("/v1")
    data_dir = tmp_path_factory.mktemp("conformance")
    settings = Settings(
        data_dir=data_dir,
        database_url=f"sqlite:///{data_dir / 'mamori.sqlite3'}",
        local_engine=False,
        bootstrap_admin=False,
        log_json=False,
        first_byte_timeout=FIRST_BYTE_TIMEOUT,
        idle_timeout=2,
        reasoning_display="raw",  # what the engines sent is what the faces must show
        endpoints=[
            EndpointSettings(
                name=f"e-{d.id}",
                url=origin + d.base_path,
                dialect=d.dialect,
                residency="onprem",
                models=[d.model],
            )
            for d in DIALECTS
        ],
    )
    app = create_app(settings)
    server, task, port = await serve(app)
    live = Live(f"http://127.0.0.1:{port}", upstream, app.state.services)
    async with (
        live.signed_in() as browser,
        httpx.AsyncClient(base_url=live.base_url, timeout=10) as api,
    ):
        holder.append(Engines(live, await live.api_key(), browser, api))
        yield holder[0]
    server.should_exit = True
    await task
    await upstream.stop()


def v1_body(case: Case, dialect: DialectCase) -> dict[str, Any]:
    messages = TOOL_LOOP if case.after_tool_result else [{"role": "user", "content": "首都は？"}]
    return {"model": dialect.model, "messages": messages, "tools": [WEATHER_TOOL]}


def assert_clean(outcome: faces.Outcome, case: Case) -> None:
    """What holds for every case and face: no markup reaches the client, and the answer carries
    no chain of thought."""
    assert "<|" not in outcome.raw
    if case.reasoning:
        assert case.reasoning not in outcome.content
    assert outcome.content == case.answer
    assert outcome.reasoning == case.reasoning


def assert_calls(outcome: faces.Outcome, case: Case, dialect: DialectCase) -> None:
    assert [(c.name, json.loads(c.arguments)) for c in outcome.calls] == [
        (e.name, e.arguments) for e in case.calls
    ]
    for seen, expected in zip(outcome.calls, case.calls, strict=True):
        if expected.id and dialect.sends_call_ids:
            assert seen.id == expected.id
        else:
            assert seen.id.startswith("call_")


async def assert_audited(
    engines: Engines, outcome: faces.Outcome, case: Case, code: str | None
) -> None:
    assert outcome.turn_id is not None
    [record] = await engines.live.audit_rows(turn_id=outcome.turn_id)
    assert record.error_code == code
    if code is None:
        assert record.usage_estimated is not case.engine_sent_usage


@pytest.fixture(params=DIALECTS, ids=[d.id for d in DIALECTS])
def dialect(request: pytest.FixtureRequest) -> DialectCase:
    value: DialectCase = request.param
    return value


@pytest.fixture(params=CASES, ids=[c.id for c in CASES])
def case(request: pytest.FixtureRequest, engines: Engines) -> Case:
    value: Case = request.param
    engines.case = value
    return value


@pytest.mark.parametrize("streamed", [True, False], ids=["stream", "complete"])
async def test_v1(engines: Engines, dialect: DialectCase, case: Case, streamed: bool) -> None:
    drive = faces.v1_stream if streamed else faces.v1_complete
    outcome = await drive(engines.api, engines.key, v1_body(case, dialect))
    if case.after_tool_result:
        sent = engines.live.upstream.requests[-1].body
        assert sent is not None and sent["messages"][-1]["role"] == "tool"

    if case.error is not None and (case.before_first_byte or not streamed):
        # Nothing was sent yet (or nothing is sent before the end): a plain HTTP error.
        assert (outcome.http_status, outcome.error_code) == (
            http_status_for(case.error),
            case.error,
        )
        assert "<|" not in outcome.raw
        return
    assert_clean(outcome, case)
    if case.error is not None:
        # Already streaming: the error goes in-band and the stream does not look complete.
        assert (outcome.error_code, outcome.before_first_byte) == (case.error, False)
        assert not outcome.done and outcome.finish_reason is None
        return
    assert_calls(outcome, case, dialect)
    assert outcome.done and outcome.error_code is None
    assert outcome.finish_reason == ("tool_calls" if case.calls else "stop")
    assert (outcome.usage is not None) is case.engine_sent_usage
    await assert_audited(engines, outcome, case, None)


async def test_ui(engines: Engines, dialect: DialectCase, case: Case) -> None:
    created = await engines.browser.post("/api/conversations", json={"title": case.id})
    conversation_id = created.json()["id"]
    outcome = await faces.ui(engines.browser, conversation_id, dialect.model, "首都は？")

    assert outcome.done
    assert_clean(outcome, case)
    error, before_first_byte = case.error, case.before_first_byte
    if error is None and case.calls:
        # No tools in the workspace: a clear message instead of an empty answer.
        error, before_first_byte = "engine_unrequested_tool_call", not case.reasoning
    assert (outcome.error_code, outcome.before_first_byte) == (
        error,
        None if error is None else before_first_byte,
    )
    status = "complete" if error is None else "error" if before_first_byte else "incomplete"
    assert outcome.finish_reason == status
    await assert_audited(engines, outcome, case, error)
    history = await engines.browser.get(f"/api/conversations/{conversation_id}/messages")
    stored = history.json()["messages"]
    if error is not None and before_first_byte:
        assert stored == []  # nothing answered: the text goes back into the composer
    else:
        # The raw reasoning is kept for auditors, also when it was all the engine sent.
        assert (stored[-1]["content"], stored[-1]["reasoning"]) == (
            case.answer,
            case.reasoning or None,
        )
