"""Answers to people whose groups must not see personal data: each datum becomes its kind
while streaming, in the stored answer too; values they wrote themselves stay."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from importlib import resources
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import pytest_asyncio

from mamori.app import create_app
from mamori.domain.principal import Role
from mamori.settings import EndpointSettings
from mamori.store.repos import audit
from tests.support.fake_upstream import FakeUpstream, Script
from tests.web.conftest import PASSWORD, isolated_settings, serve

MODEL = "gpt-oss-120b"
OWN_EMAIL = "kakari@city.example.jp"
# The phone number arrives split across chunks, as engines send it.
ANSWER = (
    "担当の",
    "山本一郎さん（電話 03-",
    "5555-",
    "1234）に確認しました。",
    f"返信先は {OWN_EMAIL} です。",
)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def app(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[tuple[str, Any]]:
    engine = FakeUpstream(Script(content=ANSWER), models=(MODEL,))
    await engine.start()
    data_dir: Path = tmp_path_factory.mktemp("answers")
    policy = data_dir / "policy.toml"
    default = resources.files("mamori.policy").joinpath("default_policy.toml").read_text("utf-8")
    policy.write_text(default + '\n[answers]\nmask_personal_data_for = ["itaku"]\n', "utf-8")
    settings = isolated_settings(
        data_dir,
        policy_file=policy,
        endpoints=[
            EndpointSettings(
                name="gpu1", url=engine.base_url, dialect="vllm", residency="onprem", models=[MODEL]
            )
        ],
    )
    application = create_app(settings)
    server, task, port = await serve(application)
    await application.state.services.accounts.create_group("itaku")
    try:
        yield f"http://127.0.0.1:{port}", application
    finally:
        server.should_exit = True
        await task
        await engine.stop()


async def ask(base_url: str, services: Any, *, outsourced: bool) -> tuple[str, str, str]:
    name = f"u-{uuid.uuid4().hex[:8]}"
    await services.accounts.create_user(name, PASSWORD, [Role.USER])
    if outsourced:
        await services.accounts.set_membership("itaku", name, member=True)
    key = (await services.accounts.create_api_key(name, "t")).plaintext
    question = f"{OWN_EMAIL} 宛てに返信する内容を確認して"
    async with httpx.AsyncClient(
        base_url=base_url, timeout=30, headers={"authorization": f"Bearer {key}"}
    ) as api:
        response = await api.post(
            "/v1/chat/completions",
            json={
                "model": MODEL,
                "stream": True,
                "messages": [{"role": "user", "content": question}],
            },
        )
    assert response.status_code == 200, response.text
    streamed = "".join(
        (orjson.loads(line[6:])["choices"] or [{}])[0].get("delta", {}).get("content") or ""
        for line in response.text.splitlines()
        if line.startswith("data: {")
    )
    return name, streamed, question


async def test_outsourced_staff_read_kinds_not_values(app: tuple[str, Any]) -> None:
    base_url, application = app
    services = application.state.services
    name, streamed, _ = await ask(base_url, services, outsourced=True)
    assert "〔電話番号〕" in streamed and "5555" not in streamed
    assert "〔氏名〕" in streamed and "山本一郎" not in streamed
    assert OWN_EMAIL in streamed  # their own words come back as they wrote them
    records = await services.db.read(lambda c: audit.list_audit(c, limit=5))
    record = next(r for _, r in records if r.username == name)
    decisions = orjson.loads(record.decisions or "[]")
    masked = next(d for d in decisions if d["stage"] == "guard.outbound")
    assert masked["rule_id"] == "guard.answer.personal-data"
    assert set(masked["kinds"].split(",")) == {"person", "phone"}


async def test_everyone_else_reads_the_answer_as_written(app: tuple[str, Any]) -> None:
    base_url, application = app
    _, streamed, _ = await ask(base_url, application.state.services, outsourced=False)
    assert streamed == "".join(ANSWER)


async def test_the_stored_answer_is_the_masked_one(app: tuple[str, Any]) -> None:
    from mamori.web.session import CSRF_HEADER

    base_url, application = app
    services = application.state.services
    name = f"u-{uuid.uuid4().hex[:8]}"
    await services.accounts.create_user(name, PASSWORD, [Role.USER])
    await services.accounts.set_membership("itaku", name, member=True)
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        await client.post("/login", data={"username": name, "password": PASSWORD, "next": "/"})
        page = (await client.get("/")).text
        marker = 'name="csrf-token" content="'
        start = page.index(marker) + len(marker)
        client.headers[CSRF_HEADER] = page[start : page.index('"', start)]
        conversation = (await client.post("/api/conversations", json={})).json()["id"]
        url = f"/api/conversations/{conversation}/messages"
        sent = await client.post(url, json={"model": MODEL, "content": "確認して"})
        assert sent.status_code == 200 and "5555" not in sent.text
        stored = (await client.get(url)).json()["messages"][-1]["content"]
    assert "〔電話番号〕" in stored and "5555" not in stored and "山本一郎" not in stored


async def test_answers_stored_before_joining_such_a_group_are_masked_when_read(
    app: tuple[str, Any],
) -> None:
    from mamori.web.session import CSRF_HEADER

    base_url, application = app
    services = application.state.services
    name = f"u-{uuid.uuid4().hex[:8]}"
    await services.accounts.create_user(name, PASSWORD, [Role.USER])
    async with httpx.AsyncClient(base_url=base_url, timeout=30) as client:
        await client.post("/login", data={"username": name, "password": PASSWORD, "next": "/"})
        page = (await client.get("/")).text
        marker = 'name="csrf-token" content="'
        start = page.index(marker) + len(marker)
        client.headers[CSRF_HEADER] = page[start : page.index('"', start)]
        conversation = (await client.post("/api/conversations", json={})).json()["id"]
        url = f"/api/conversations/{conversation}/messages"
        await client.post(url, json={"model": MODEL, "content": "確認して"})
        before = (await client.get(url)).json()["messages"][-1]["content"]
        assert "5555" in before
        await services.accounts.set_membership("itaku", name, member=True)
        after = (await client.get(url)).json()["messages"][-1]["content"]
    assert "〔電話番号〕" in after and "5555" not in after
