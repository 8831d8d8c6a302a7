"""The sovereignty acceptance: what a turn holds decides where it goes, through both faces.

One live mamori in front of three engines serving the same model: on-prem, a domestic cloud
assessed for 機密性2, and a foreign 約款型 service that records every byte it receives. The
default policy, the built-in detectors and the real pipeline decide; the test only looks at
what each engine received and at the audit trail.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import pytest_asyncio

from mamori.domain.audit import TurnStatus
from mamori.domain.classification import Classification
from tests.support.fake_script import Script, ToolCallScript
from tests.support.sovereign import (
    CLOUD_ONLY,
    MODEL,
    Sovereign,
    all_chat_records,
    api_turn,
    sovereign_app,
    user_id,
)

DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "pii-ja-dev.jsonl"
PUBLIC_PROMPTS = [
    "市のホームページに載せる、ごみの分別に関する一般的な案内文を書いてください。",
    "Summarise the history of the Shinkansen in three sentences.",
    "公開済みの広報誌の見出し案を5つ考えてください。",
    "夏の熱中症予防の一般的な注意点を箇条書きにしてください。",
    "Explain what a municipal budget is, for a school class.",
]


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def sov(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Sovereign]:
    async with sovereign_app(tmp_path_factory.mktemp("sovereign")) as app:
        yield app


async def gather_limited(jobs: list[Callable[[], Awaitable[Any]]], limit: int = 12) -> list[Any]:
    gate = asyncio.Semaphore(limit)

    async def one(job: Callable[[], Awaitable[Any]]) -> Any:
        async with gate:
            return await job()

    return await asyncio.gather(*(one(job) for job in jobs))


async def ui_turn(client: httpx.AsyncClient, text: str, label: int | None = None) -> list[Any]:
    created = await client.post("/api/conversations", json={"classification": label})
    assert created.status_code == 201, created.text
    conversation = created.json()["id"]
    response = await client.post(
        f"/api/conversations/{conversation}/messages", json={"model": MODEL, "content": text}
    )
    assert response.status_code == 200, response.text
    events = []
    for block in response.text.strip().split("\n\n"):
        lines = block.split("\n")
        name = lines[0].removeprefix("event: ")
        events.append((name, orjson.loads(lines[1].removeprefix("data: "))))
    return events


async def test_the_foreign_engine_receives_nothing_confidential_through_either_face(
    sov: Sovereign,
) -> None:
    if not DATA.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{DATA} is missing: the egress proof cannot run")
        pytest.skip(f"{DATA} is not on this machine")
    corpus = [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines()]
    c2_marker, c3_marker = f"C2-MEMO-{uuid.uuid4().hex}", f"C3-MEMO-{uuid.uuid4().hex}"
    clerk = await sov.user()
    zeimu = await sov.user(Classification.C2)  # a group whose work is 機密性2 by default
    jinji = await sov.user(Classification.C3)
    async with sov.signed_in(clerk) as ui:
        clerk_key, zeimu_key, jinji_key = [await sov.key(u) for u in (clerk, zeimu, jinji)]

        def api_as(key: str, text: str, label: str | None = None) -> Callable[[], Awaitable[Any]]:
            async def call() -> httpx.Response:
                api_client = httpx.AsyncClient(
                    base_url=sov.base_url, timeout=60, headers={"authorization": f"Bearer {key}"}
                )
                async with api_client:
                    return await api_turn(api_client, text, label)

            return call

        def ui_as(text: str, label: int | None = None) -> Callable[[], Awaitable[Any]]:
            return lambda: ui_turn(ui, text, label)

        jobs: list[Callable[[], Awaitable[Any]]] = []
        for row in corpus:
            jobs += [api_as(clerk_key, row["text"]), ui_as(row["text"])]
        public = [api_as(clerk_key, p, "公開") for p in PUBLIC_PROMPTS]
        public += [ui_as(p, 0) for p in PUBLIC_PROMPTS]
        labelled = [
            api_as(zeimu_key, f"{c2_marker} 課税台帳の照合手順をまとめて"),
            api_as(jinji_key, f"{c3_marker} 人事評価の原案を整えて"),
            api_as(clerk_key, f"{c2_marker} 内部の検討メモ", "機密性2"),
            ui_as(f"{c2_marker} 内部の検討メモを要約して", 2),
            ui_as(f"{c3_marker} 懲戒処分の案を整理して", 3),
        ]
        results = await gather_limited([*jobs, *labelled])
        # One at a time, so routing's preference (the first endpoint, when all are idle) is
        # what the policy allows or overrides, not whichever engine happened to be less busy.
        results += [await job() for job in public]

    # Every turn was answered: nothing was refused, confidential ones were rerouted.
    for result in results:
        if isinstance(result, httpx.Response):
            assert result.status_code == 200, result.text
        else:
            assert result[-1] == ("done", result[-1][1]) and result[-1][1]["status"] == "complete"

    to_foreign = sov.chat_bodies(sov.foreign)
    pii_values = {e["value"] for row in corpus for e in row["entities"]}
    leaked = sorted(v for v in pii_values if any(v in body for body in to_foreign))
    assert leaked == [], f"{len(leaked)} PII values reached the foreign engine: {leaked[:10]}"
    assert not any(c2_marker in b or c3_marker in b for b in to_foreign)
    # 公開 prompts are still served, by the endpoint routing prefers and the policy allows.
    for prompt in PUBLIC_PROMPTS:
        assert sum(prompt in body for body in to_foreign) == 2
    # 機密性2 went to the assessed domestic endpoint or on-prem (whichever was less busy);
    # 機密性3 stayed on-prem.
    to_domestic, to_onprem = sov.chat_bodies(sov.domestic), sov.chat_bodies(sov.onprem)
    assert sum(c2_marker in b for b in to_domestic + to_onprem) == 3
    assert not any(c3_marker in b for b in to_domestic)
    assert sum(c3_marker in b for b in to_onprem) == 2

    # The audit trail says why, turn by turn.
    records = await sov.services.db.read(lambda c: all_chat_records(c))
    rerouted = [r for r in records if r.policy_action == "reroute"]
    assert rerouted and all(r.endpoint in ("ismap", "gpu1") for r in rerouted)
    assert all(r.endpoint != "cloud" for r in records if r.classification >= Classification.C2)
    my_number = [r for r in records if r.special_personal]
    with_my_number = sum(any(e["label"] == "MY_NUMBER" for e in r["entities"]) for r in corpus)
    assert len(my_number) >= 2 * with_my_number and all(
        (r.endpoint, r.policy_rule, r.classification) == ("gpu1", "c3-onprem", Classification.C3)
        for r in my_number
    )
    sample = orjson.loads(my_number[0].decisions or "[]")
    route = next(d for d in sample if d["stage"] == "policy.route")
    assert "cloud:confidential-never-tos" in route["refused"].split(";")
    classify = next(d for d in sample if d["stage"] == "policy.classify")
    assert classify["action"] == "raise" and "my_number" in classify["kinds"]


async def test_a_model_with_no_compliant_endpoint_is_denied_before_any_upstream_call(
    sov: Sovereign,
) -> None:
    clerk = await sov.user()
    before = len(sov.chat_bodies(sov.foreign))
    async with httpx.AsyncClient(
        base_url=sov.base_url,
        timeout=30,
        headers={"authorization": f"Bearer {await sov.key(clerk)}"},
    ) as api:
        response = await api_turn(api, "課税台帳の照合", "機密性2", model=CLOUD_ONLY)
    assert response.status_code == 403, response.text
    error = response.json()["error"]
    assert error["code"] == "policy_denied" and error["type"] == "permission_error"
    assert "confidential-never-tos" in error["message"]
    assert len(sov.chat_bodies(sov.foreign)) == before
    user = await sov.services.db.read(lambda c: user_id(c, clerk))
    [record] = [r for r in await sov.services.db.read(all_chat_records) if r.user_id == user]
    assert record.status is TurnStatus.DENIED and record.endpoint is None
    assert (record.policy_action, record.policy_rule) == ("deny", "confidential-never-tos")
    [route] = [d for d in orjson.loads(record.decisions or "[]") if d["stage"] == "policy.route"]
    assert route["refused"] == "cloud:confidential-never-tos"


async def test_nothing_confidential_reaches_the_foreign_engine_by_a_side_channel(
    sov: Sovereign,
) -> None:
    """History, tool-call arguments, reasoning sent back in a tool loop, the Responses API,
    and a request labelled below the sender's group floor: none of it reaches the foreign
    engine when it holds PII or 機密性2+ content."""
    my_number, phone = "621498320257", "090-1234-5678"
    marker = f"ZEIMU-{uuid.uuid4().hex}"
    clerk, zeimu = await sov.user(), await sov.user(Classification.C2)
    calls: dict[str, dict[str, Any]] = {
        "history": {
            "messages": [
                {"role": "user", "content": f"個人番号{my_number}の方の転入届です"},
                {"role": "assistant", "content": "承知しました"},
                {"role": "user", "content": "では手順をまとめて"},
            ]
        },
        "tool loop": {
            "messages": [
                {"role": "user", "content": "担当者に連絡して"},
                {
                    "role": "assistant",
                    "content": "",
                    "reasoning_content": f"個人番号 {my_number} の方に連絡する",
                    "tool_calls": [
                        {
                            "id": "call_side_1",
                            "type": "function",
                            "function": {"name": "call", "arguments": f'{{"tel": "{phone}"}}'},
                        }
                    ],
                },
                {"role": "tool", "tool_call_id": "call_side_1", "content": "ok"},
            ],
            "tools": [{"type": "function", "function": {"name": "call", "parameters": {}}}],
        },
    }
    before = len(sov.chat_bodies(sov.foreign))
    async with httpx.AsyncClient(
        base_url=sov.base_url,
        timeout=30,
        headers={"authorization": f"Bearer {await sov.key(clerk)}"},
    ) as api:
        for name, body in calls.items():
            response = await api.post(
                "/v1/chat/completions",
                json={"model": MODEL, **body},
                headers={"x-mamori-classification": "public"},
            )
            assert response.status_code == 200, (name, response.text)
        responses = await api.post(
            "/v1/responses",
            json={"model": MODEL, "input": f"電話 {phone} の方への案内文"},
            headers={"x-mamori-classification": "public"},
        )
        assert responses.status_code == 200, responses.text
    async with httpx.AsyncClient(
        base_url=sov.base_url,
        timeout=30,
        headers={"authorization": f"Bearer {await sov.key(zeimu)}"},
    ) as api:
        below_floor = await api_turn(api, f"{marker} 課税の内部資料", "public")
        assert below_floor.status_code == 200, below_floor.text
    to_foreign = sov.chat_bodies(sov.foreign)[before:]
    assert not any(secret in body for body in to_foreign for secret in (my_number, phone, marker))
    assert any(
        marker in body for body in sov.chat_bodies(sov.domestic) + sov.chat_bodies(sov.onprem)
    )


async def test_a_tool_loop_continuation_keeps_the_class_of_the_turn_it_continues(
    sov: Sovereign,
) -> None:
    marker = f"JINJI-{uuid.uuid4().hex}"
    call_id = f"call_{uuid.uuid4().hex[:8]}"
    tools = [{"type": "function", "function": {"name": "lookup", "parameters": {}}}]
    clerk = await sov.user()
    sov.onprem.script = Script(
        reasoning=(f"{marker} の評価記録を調べる",),
        content=(),
        tool_calls=(ToolCallScript(call_id, "lookup", ('{"q":', ' "x"}')),),
        finish_reason="tool_calls",
    )
    try:
        async with httpx.AsyncClient(
            base_url=sov.base_url,
            timeout=30,
            headers={"authorization": f"Bearer {await sov.key(clerk)}"},
        ) as api:
            first = await api.post(
                "/v1/chat/completions",
                json={
                    "model": MODEL,
                    "messages": [{"role": "user", "content": "評価"}],
                    "tools": tools,
                },
                headers={"x-mamori-classification": "c3"},
            )
            assert first.status_code == 200, first.text
            sov.onprem.script = Script(content=("了解",))
            # The client saw no reasoning (hidden by default) and labels its follow-up 公開.
            second = await api.post(
                "/v1/chat/completions",
                json={
                    "model": MODEL,
                    "tools": tools,
                    "messages": [
                        {"role": "user", "content": "評価"},
                        {
                            "role": "assistant",
                            "content": "",
                            "tool_calls": [
                                {
                                    "id": call_id,
                                    "type": "function",
                                    "function": {"name": "lookup", "arguments": '{"q": "x"}'},
                                }
                            ],
                        },
                        {"role": "tool", "tool_call_id": call_id, "content": "結果"},
                    ],
                },
                headers={"x-mamori-classification": "public"},
            )
            assert second.status_code == 200, second.text
    finally:
        sov.onprem.script = Script(content=("了解",))
    assert not any(marker in body for body in sov.chat_bodies(sov.foreign))
    restored = [b for b in sov.chat_bodies(sov.onprem) if marker in b and "結果" in b]
    assert len(restored) == 1  # the engine got its reasoning back, on-prem
    uid = await sov.services.db.read(functools.partial(user_id, username=clerk))
    latest = next(r for r in await sov.services.db.read(all_chat_records) if r.user_id == uid)
    assert (latest.label, latest.classification) == (Classification.PUBLIC, Classification.C3)


@contextlib.contextmanager
def _engines_answering_400(sov: Sovereign) -> Iterator[None]:
    # A 4xx neither fails over nor opens a circuit breaker: the module's other tests are safe.
    engines = (sov.onprem, sov.domestic, sov.foreign)
    kept = [e.script for e in engines]
    for engine in engines:
        engine.script = Script(status=400, status_body=b'{"error": "bad"}')
    try:
        yield
    finally:
        for engine, script in zip(engines, kept, strict=True):
            engine.script = script


async def test_every_turn_of_both_faces_has_exactly_one_audit_record(sov: Sovereign) -> None:
    """Allowed, denied, errored and quota-refused: one record each, counted per turn id."""
    from mamori.store.repos import audit, quotas

    name = await sov.user()
    uid = sov.services.db.read_sync(user_id, name)
    expected = [TurnStatus.OK, TurnStatus.DENIED, TurnStatus.ERROR]
    headers = {"authorization": f"Bearer {await sov.key(name)}"}
    async with httpx.AsyncClient(base_url=sov.base_url, headers=headers, timeout=60) as api:
        assert (await api_turn(api, "公開の案内文", "公開")).status_code == 200
        assert (await api_turn(api, "課税台帳", "機密性2", model=CLOUD_ONLY)).status_code == 403
        with _engines_answering_400(sov):
            assert (await api_turn(api, "公開の案内文", "公開")).status_code == 502
    async with sov.signed_in(name) as ui:
        for model, broken in ((MODEL, False), (CLOUD_ONLY, False), (MODEL, True)):
            created = await ui.post("/api/conversations", json={"classification": 2})
            conversation = created.json()["id"]
            with _engines_answering_400(sov) if broken else contextlib.nullcontext():
                response = await ui.post(
                    f"/api/conversations/{conversation}/messages",
                    json={"model": model, "content": "課税台帳"},
                )
            assert response.status_code == 200, response.text
        sov.services.db.write_sync(
            quotas.set_quota,
            quotas.USER,
            uid,
            daily_tokens=1,
            monthly_tokens=None,
            requests_per_minute=None,
        )
        for stage in sov.services.pipeline.prepare_stages:
            if stage.name == "quota":
                stage._cache.clear()  # type: ignore[attr-defined]
        refused = await ui.post(
            f"/api/conversations/{conversation}/messages", json={"model": MODEL, "content": "y"}
        )
        assert "quota_exceeded" in refused.text
    async with httpx.AsyncClient(base_url=sov.base_url, headers=headers, timeout=60) as api:
        assert (await api_turn(api, "公開の案内文", "公開")).status_code == 429
    for _ in range(100):
        records = [
            r
            for _, r in sov.services.db.read_sync(audit.list_audit, limit=1000, user_id=uid)
            if r.action == "chat"
        ]
        if len(records) >= 8:
            break
        await asyncio.sleep(0.05)
    by_face = {
        face: [r.status for r in reversed(records) if r.face == face] for face in ("api", "ui")
    }
    assert by_face["api"] == [*expected, TurnStatus.QUOTA]
    assert by_face["ui"] == [*expected, TurnStatus.QUOTA]
    assert len({r.turn_id for r in records}) == len(records) == 8
