"""Pseudonymisation round trip: an endpoint approved only for masked text never receives a
personal datum, and the person still reads the originals, even when the engine splits every
placeholder across chunks."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import pytest_asyncio

from mamori.app import create_app
from mamori.domain.classification import Classification
from mamori.domain.principal import Role
from mamori.settings import EndpointSettings
from mamori.web.session import CSRF_HEADER
from tests.support.fake_upstream import FakeUpstream, Script
from tests.web.conftest import PASSWORD, isolated_settings, serve

MODEL = "masked-chat"
VALUES = {
    "person": "佐藤花子",
    "birth_date": "1985年4月12日",
    "phone": "090-3344-5566",
    "email": "hanako.sato@example.jp",
    "address": "東京都千代田区霞が関1丁目2番3号",
    "bank_account": "普通 1234567",
}
PROMPT = (
    f"申込者の{VALUES['person']}さん（生年月日 {VALUES['birth_date']}）から、電話 "
    f"{VALUES['phone']}、メール {VALUES['email']} で連絡がありました。住所は"
    f"{VALUES['address']}です。振込先は{VALUES['bank_account']}。返信文を作ってください。"
)
PLACEHOLDER = re.compile(r"〔[^〔〕]+〕")


def echo_placeholders(body: dict[str, Any]) -> Script:
    """An engine that answers with every placeholder it was sent, one character per chunk."""
    sent = " ".join(str(m.get("content") or "") for m in body.get("messages", []))
    found = list(dict.fromkeys(PLACEHOLDER.findall(sent)))
    tokens = ["ご連絡先: "]
    for placeholder in found:
        tokens += [*placeholder, " / "]
    return Script(model=MODEL, content=tuple(tokens))


class Masked:
    def __init__(self, base_url: str, app: Any, engine: FakeUpstream) -> None:
        self.base_url, self.app, self.engine = base_url, app, engine

    def bodies(self) -> list[str]:
        return [orjson.dumps(r.body).decode() for r in self.engine.requests if r.method == "POST"]


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def masked(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Masked]:
    engine = FakeUpstream(script_for=echo_placeholders, models=(MODEL,))
    await engine.start()
    data_dir: Path = tmp_path_factory.mktemp("masked")
    settings = isolated_settings(
        data_dir,
        endpoints=[
            EndpointSettings(
                name="saas",
                url=engine.base_url,
                dialect="vllm",
                residency="domestic_cloud",
                models=[MODEL],
                max_classification=Classification.C1,
                trains_on_inputs=False,
                terms_of_service=False,
                approved_for_masked=True,
            )
        ],
    )
    app = create_app(settings)
    server, task, port = await serve(app)
    try:
        yield Masked(f"http://127.0.0.1:{port}", app, engine)
    finally:
        server.should_exit = True
        await task
        await engine.stop()


async def signed_in(masked: Masked) -> httpx.AsyncClient:
    name = f"u-{uuid.uuid4().hex[:8]}"
    await masked.app.state.services.accounts.create_user(name, PASSWORD, [Role.USER])
    client = httpx.AsyncClient(base_url=masked.base_url, timeout=30)
    await client.post("/login", data={"username": name, "password": PASSWORD, "next": "/"})
    page = (await client.get("/")).text
    marker = 'name="csrf-token" content="'
    start = page.index(marker) + len(marker)
    client.headers[CSRF_HEADER] = page[start : page.index('"', start)]
    return client


def streamed_text(sse: str) -> str:
    parts = []
    for block in sse.strip().split("\n\n"):
        lines = block.split("\n")
        if lines[0] == "event: content":
            parts.append(orjson.loads(lines[1].removeprefix("data: "))["t"])
    return "".join(parts)


async def test_the_masked_endpoint_sees_placeholders_and_the_person_reads_originals(
    masked: Masked,
) -> None:
    client = await signed_in(masked)
    try:
        created = await client.post("/api/conversations", json={"title": "t"})
        conversation = created.json()["id"]
        url = f"/api/conversations/{conversation}/messages"
        first = await client.post(url, json={"model": MODEL, "content": PROMPT})
        assert first.status_code == 200, first.text
        answer = streamed_text(first.text)
        # Every placeholder came back split into single characters, and every one was restored.
        for value in VALUES.values():
            assert value in answer, (value, answer)
        assert not PLACEHOLDER.search(answer)
        second = await client.post(url, json={"model": MODEL, "content": "佐藤花子さんに再度連絡"})
        assert second.status_code == 200, second.text
        stored = (await client.get(url)).json()["messages"]
    finally:
        await client.aclose()
    sent = masked.bodies()
    assert len(sent) == 2
    for body in sent:
        for value in VALUES.values():
            assert value not in body, value
    first_sent, second_sent = (orjson.loads(b)["messages"] for b in sent)
    name = next(p for p in PLACEHOLDER.findall(first_sent[-1]["content"]) if p.startswith("〔氏名"))
    # The same person keeps the same placeholder in the next turn, in the history and the
    # new question alike.
    assert second_sent[-1]["content"].startswith(name)
    assert name in second_sent[0]["content"]
    # The person's record keeps the originals: their question and the restored answer.
    assert stored[0]["content"] == PROMPT
    assert VALUES["phone"] in stored[1]["content"] and not PLACEHOLDER.search(stored[1]["content"])


async def test_the_api_face_pseudonymises_and_restores_too(masked: Masked) -> None:
    services = masked.app.state.services
    name = f"u-{uuid.uuid4().hex[:8]}"
    await services.accounts.create_user(name, PASSWORD, [Role.USER])
    key = (await services.accounts.create_api_key(name, "t")).plaintext
    before = len(masked.bodies())
    async with httpx.AsyncClient(
        base_url=masked.base_url, timeout=30, headers={"authorization": f"Bearer {key}"}
    ) as api:
        response = await api.post(
            "/v1/chat/completions",
            json={"model": MODEL, "messages": [{"role": "user", "content": PROMPT}]},
        )
    assert response.status_code == 200, response.text
    content = response.json()["choices"][0]["message"]["content"]
    assert VALUES["email"] in content and not PLACEHOLDER.search(content)
    [body] = masked.bodies()[before:]
    assert not any(value in body for value in VALUES.values())
    from mamori.store.repos import audit

    records = await services.db.read(lambda c: audit.list_audit(c, limit=5))
    record = next(r for _, r in records if r.username == name)
    assert (record.policy_action, record.policy_rule) == ("mask_then_allow", "c2-masked")
    decisions = orjson.loads(record.decisions or "[]")
    transform = next(d for d in decisions if d["stage"] == "guard.transform")
    assert "person" in transform["kinds"] and int(transform["placeholders"]) >= len(VALUES)
    assert not any(value in (record.decisions or "") for value in VALUES.values())
