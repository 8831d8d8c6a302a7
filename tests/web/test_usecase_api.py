"""Use cases over the workspace API, on a live server: a clerk fills in a form and gets a
conversation and its prompt, which then goes through the ordinary chat pipeline; the form is
checked on the server; a required knowledge base must be one the clerk may read; only
administrators change use cases, and with a clear error when a definition is wrong."""

from __future__ import annotations

import uuid

import orjson
import pytest

from mamori.domain.classification import Classification
from mamori.domain.principal import Role
from mamori.store.repos.knowledge_bases import create_kb
from tests.support.fake_script import Script
from tests.web.conftest import MODEL, Live

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def group_kb(live: Live, username: str | None) -> str:
    """A knowledge base owned by a new group; ``username`` (if given) is a member."""
    accounts = live.services.accounts
    group = await accounts.create_group(f"g-{uuid.uuid4().hex[:8]}")
    if username:
        await accounts.set_membership(group.name, username, member=True)
    name = f"例規集-{uuid.uuid4().hex[:6]}"
    kb = await live.services.db.write(
        lambda c: create_kb(c, name=name, owner_group_id=group.id, classification=Classification.C1)
    )
    return str(kb.id)


async def test_a_use_case_opens_a_conversation_whose_prompt_the_pipeline_sends(
    live: Live,
) -> None:
    live.script = Script(
        content=(
            "・窓口は",
            "休みです",
        )
    )
    async with live.signed_in() as client:
        listed = (await client.get("/api/use-cases")).json()["use_cases"]
        assert {"summarize", "translate", "council_answer"} <= {u["id"] for u in listed}
        assert all("definition" not in u for u in listed)  # templates are for administrators
        started = await client.post(
            "/api/use-cases/summarize/conversations",
            json={
                "values": {"text": "年末年始は窓口を休みます。", "length": "short"},
                "model": MODEL,
            },
        )
        assert started.status_code == 201, started.text
        body = started.json()
        assert body["conversation"]["use_case"] == "summarize"
        assert body["conversation"]["title"].startswith("要約: 年末年始は")
        assert "3行程度" in body["prompt"] and body["prompt"].endswith("年末年始は窓口を休みます。")

        conversation_id = body["conversation"]["id"]
        async with client.stream(
            "POST",
            f"/api/conversations/{conversation_id}/messages",
            json={"content": body["prompt"], "model": MODEL},
        ) as response:
            events = [line async for line in response.aiter_lines() if line.startswith("data:")]
        assert any('"t":"休みです"' in e for e in events)
        sent = live.upstream.requests[-1].body
        assert sent is not None and sent["messages"][-1]["content"] == body["prompt"]
        conversations = (await client.get("/api/conversations")).json()["conversations"]
        assert conversations[0]["id"] == conversation_id


async def test_the_form_is_checked_on_the_server_and_names_the_field(live: Live) -> None:
    async with live.signed_in() as client:
        empty = await client.post(
            "/api/use-cases/summarize/conversations", json={"values": {"text": "  "}}
        )
        assert empty.status_code == 422
        assert empty.json()["error"] == {
            "code": "use_case_input",
            "message": "入力内容を確認してください。",
            "field": "text",
        }
        odd = await client.post(
            "/api/use-cases/translate/conversations",
            json={"values": {"text": "a", "direction": "ja_fr"}},
        )
        assert odd.json()["error"]["field"] == "direction"
        missing = await client.post("/api/use-cases/nope/conversations", json={"values": {}})
        assert missing.status_code == 404
        unknown_model = await client.post(
            "/api/use-cases/summarize/conversations",
            json={"values": {"text": "a"}, "model": "no-such-model"},
        )
        assert unknown_model.status_code == 404


async def test_a_required_knowledge_base_must_be_one_the_person_may_read(live: Live) -> None:
    username = await live.new_user()
    mine = await group_kb(live, username)
    theirs = await group_kb(live, None)
    question = {"question": "防災備蓄の現状について伺います。"}
    async with live.signed_in(username) as client:
        none = await client.post(
            "/api/use-cases/council_answer/conversations", json={"values": question}
        )
        foreign = await client.post(
            "/api/use-cases/council_answer/conversations",
            json={"values": question, "knowledge_bases": [theirs]},
        )
        assert none.status_code == 422
        assert none.json()["error"]["field"] == "knowledge_bases"
        # As in the chat API: another group's base looks like one that does not exist.
        assert foreign.status_code == 404
        ok = await client.post(
            "/api/use-cases/council_answer/conversations",
            json={"values": question, "knowledge_bases": [mine]},
        )
        assert ok.status_code == 201
        assert ok.json()["conversation"]["knowledge_bases"] == [mine]
        # A use case without knowledge ignores what is sent.
        plain = await client.post(
            "/api/use-cases/summarize/conversations",
            json={"values": {"text": "a"}, "knowledge_bases": [mine]},
        )
        assert plain.json()["conversation"]["knowledge_bases"] == []


async def test_only_administrators_manage_use_cases(live: Live) -> None:
    definition = {
        "id": f"uc_{uuid.uuid4().hex[:8]}",
        "title_ja": "窓口メモ",
        "title_en": "Counter memo",
        "fields": [{"name": "text", "label_ja": "本文", "label_en": "Text"}],
        "prompt": "{{ text }}",
    }
    async with live.signed_in() as clerk:
        for method, path, body in (
            ("GET", "/api/admin/use-cases", None),
            ("POST", "/api/admin/use-cases", {"definition": definition}),
            ("PUT", "/api/admin/use-cases/summarize/hidden", {"hidden": True}),
            ("DELETE", "/api/admin/use-cases/summarize", None),
            ("GET", "/api/admin/use-cases/export", None),
            ("POST", "/api/admin/use-cases/import", {"use_cases": [definition]}),
        ):
            response = await clerk.request(method, path, json=body)
            assert response.status_code == 403, (method, path)

    admin = await live.new_user(Role.ADMIN)
    async with live.signed_in(admin) as client:
        broken = await client.post(
            "/api/admin/use-cases", json={"definition": {**definition, "prompt": "{{ txt }}"}}
        )
        assert broken.status_code == 422
        assert "unknown fields: txt" in broken.json()["error"]["detail"]

        created = await client.post("/api/admin/use-cases", json={"definition": definition})
        assert created.status_code == 201 and created.json()["builtin"] is False
        no_csrf = await client.put(
            f"/api/admin/use-cases/{definition['id']}/hidden",
            json={"hidden": True},
            headers={"x-csrf-token": "wrong"},
        )
        assert no_csrf.status_code == 403
        hidden = await client.put(
            f"/api/admin/use-cases/{definition['id']}/hidden", json={"hidden": True}
        )
        assert hidden.json()["hidden"] is True

        exported = await client.get("/api/admin/use-cases/export")
        assert exported.headers["content-disposition"].startswith("attachment")
        ids = [u["id"] for u in orjson.loads(exported.content)["use_cases"]]
        assert definition["id"] in ids

    async with live.signed_in() as clerk:
        listed = (await clerk.get("/api/use-cases")).json()["use_cases"]
        assert definition["id"] not in {u["id"] for u in listed}
        started = await clerk.post(
            f"/api/use-cases/{definition['id']}/conversations", json={"values": {"text": "a"}}
        )
        assert started.status_code == 404

    records = await live.audit_rows()
    mine = [r.action for r in records if r.subject == definition["id"]]
    assert sorted(mine) == ["use_case.hide", "use_case.save"]
