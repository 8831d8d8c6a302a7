"""The access test, whichever face asks (/v1, streamed or not, and the workspace): a member of
one group never gets a chunk of another group's knowledge base, and every answer cites its
sources; grants withdrawn take effect at the next turn; injected instructions are held back at
ingest and never sent; a confidential knowledge base raises the turn's class.
"""

from __future__ import annotations

import httpx
import orjson

from mamori.domain.classification import Classification
from tests.web.conftest import upload
from tests.web.kb_access.world import (
    A_MARK,
    A_TEXT,
    ANSWER,
    B_MARK,
    CLOUD_MODEL,
    MODEL,
    POISON,
    QUESTION,
    SHARED,
    World,
    chat_posts,
    conversation_on,
    documents_of,
    error_code,
    events_named,
    grant,
    hits_of,
    indexed,
    new_department,
    new_group,
    sent_text,
    v1_chat,
    workspace_turn,
)

# --- 3 and 4. the access test, with citations ---------------------------------------------------


async def test_v1_answers_a_member_only_from_their_groups_base_with_citations(
    world: World,
) -> None:
    since = len(world.engine.requests)
    answer = await v1_chat(world, world.a.member, knowledge_bases=[world.a.kb["name"]])
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert body["choices"][0]["message"]["content"] == ANSWER
    citations = body["citations"]
    assert citations, body
    assert [c["index"] for c in citations] == list(range(1, len(citations) + 1))
    for citation in citations:
        assert {"index", "kb_id", "document_id", "title", "page", "headings", "snippet"} <= set(
            citation
        )
        assert citation["kb_id"] == world.a.kb["id"]
        assert citation["document_id"] == world.a_doc["id"]
    assert citations[0]["title"] == "案内" and citations[0]["page"] is None  # the H1
    assert A_MARK in citations[0]["snippet"]
    [sent] = chat_posts(world.engine, since)
    text = orjson.dumps(sent).decode()
    assert A_TEXT in text and B_MARK not in text
    assert any(m.get("name") == "mamori_document_1" for m in sent["messages"])


async def test_v1_streams_the_citations_in_a_last_chunk_before_done(world: World) -> None:
    key = await world.live.api_key(world.a.member)
    async with (
        httpx.AsyncClient(base_url=world.live.base_url, timeout=30) as api,
        api.stream(
            "POST",
            "/v1/chat/completions",
            headers={"authorization": f"Bearer {key}"},
            json={
                "model": MODEL,
                "messages": [{"role": "user", "content": QUESTION}],
                "stream": True,
                "knowledge_bases": [world.a.kb["id"]],
            },
        ) as stream,
    ):
        assert stream.status_code == 200
        lines = [line async for line in stream.aiter_lines() if line.startswith("data: ")]
    assert lines[-1] == "data: [DONE]"
    chunks = [orjson.loads(line[6:]) for line in lines[:-1]]
    last = chunks[-1]
    assert last["choices"] == []
    assert [c["document_id"] for c in last["citations"]] == [world.a_doc["id"]]
    assert last["citations"][0]["kb_id"] == world.a.kb["id"]
    assert {"index", "document_id", "title", "page", "snippet"} <= set(last["citations"][0])
    assert not any("citations" in c for c in chunks[:-1])
    content = "".join(
        c["choices"][0]["delta"].get("content") or "" for c in chunks[:-1] if c["choices"]
    )
    assert content == ANSWER


async def test_v1_answers_the_other_groups_base_as_absent_and_sends_nothing(
    world: World,
) -> None:
    since = len(world.engine.requests)
    for ref in (world.b.kb["name"], world.b.kb["id"]):
        refused = await v1_chat(world, world.a.member, knowledge_bases=[ref])
        assert refused.status_code == 404, refused.text
        assert error_code(refused) == "knowledge_base_not_found"
    # One readable and one not: the whole request is refused, not narrowed.
    mixed = await v1_chat(
        world, world.a.member, knowledge_bases=[world.a.kb["id"], world.b.kb["name"]]
    )
    assert mixed.status_code == 404
    # An administrator in neither group does not read them through the assistant either.
    admin = await v1_chat(world, world.admin, knowledge_bases=[world.a.kb["name"]])
    assert admin.status_code == 404
    assert chat_posts(world.engine, since) == []


async def test_the_workspace_answers_only_from_the_chosen_readable_base(world: World) -> None:
    async with world.live.signed_in(world.a.member) as member:
        refused = await member.post(
            "/api/conversations", json={"knowledge_bases": [world.b.kb["id"]]}
        )
        assert refused.status_code == 404 and error_code(refused) == "knowledge_base_not_found"
        created = await member.post(
            "/api/conversations", json={"knowledge_bases": [world.a.kb["name"]]}
        )
        assert created.status_code == 201, created.text
        conversation = created.json()
        assert conversation["knowledge_bases"] == [world.a.kb["id"]]
        path = f"/api/conversations/{conversation['id']}"
        for ref in (world.b.kb["id"], world.b.kb["name"]):
            chosen = await member.put(f"{path}/knowledge_bases", json={"knowledge_bases": [ref]})
            assert chosen.status_code == 404 and error_code(chosen) == "knowledge_base_not_found"
        # The refused choice left the earlier one in place.
        opened = (await member.get(f"{path}/messages")).json()
        assert opened["conversation"]["knowledge_bases"] == [world.a.kb["id"]]

        since = len(world.engine.requests)
        events = await workspace_turn(member, conversation["id"], QUESTION)
        sent = sent_text(world.engine, since)
        assert A_TEXT in sent and B_MARK not in sent
        [cited] = events_named(events, "citations")
        citations = cited["citations"]
        assert [c["kb_id"] for c in citations] == [world.a.kb["id"]]
        assert citations[0]["document_id"] == world.a_doc["id"]
        assert A_MARK in citations[0]["snippet"]
        kinds = [kind for kind, _ in events]
        assert kinds.index("citations") > kinds.index("content")
        assert kinds[-1] == "done" and events[-1][1]["status"] == "complete"

        stored = (await member.get(f"{path}/messages")).json()["messages"]
        assert [m["role"] for m in stored] == ["user", "assistant"]
        assert stored[0]["citations"] == []
        assert stored[1]["content"] == ANSWER and stored[1]["citations"] == citations


async def test_a_withdrawn_grant_takes_effect_at_the_next_turn(world: World) -> None:
    late = await world.live.new_user()
    group, group_id = await new_group(world, late)
    await grant(world, world.a.kb["id"], group)
    async with world.live.signed_in(late) as client:
        conversation = await conversation_on(client, world.a.kb["id"])
        since = len(world.engine.requests)
        first = await workspace_turn(client, conversation, QUESTION)
        assert A_TEXT in sent_text(world.engine, since)
        assert events_named(first, "citations")

        async with world.live.signed_in(world.admin) as admin:
            revoked = await admin.delete(f"/api/kbs/{world.a.kb['id']}/access/{group_id}")
            assert revoked.status_code == 204

        since = len(world.engine.requests)
        second = await workspace_turn(client, conversation, f"{SHARED}をもう一度")
        [request] = chat_posts(world.engine, since)
        text = orjson.dumps(request).decode()
        # Neither a chunk of the base nor the instruction to cite it.
        assert A_MARK not in text.replace(ANSWER, "") and "参考資料" not in text
        assert not any(m.get("name") for m in request["messages"])
        assert events_named(second, "citations") == []
        assert events_named(second, "done")[0]["status"] == "complete"
        stored = (await client.get(f"/api/conversations/{conversation}/messages")).json()
        assert stored["messages"][-1]["citations"] == []
    since = len(world.engine.requests)
    refused = await v1_chat(world, late, knowledge_bases=[world.a.kb["id"]])
    assert refused.status_code == 404 and chat_posts(world.engine, since) == []


async def test_leaving_the_group_takes_effect_at_the_next_turn(world: World) -> None:
    leaver = await world.live.new_user()
    group, _ = await new_group(world, leaver)
    await grant(world, world.a.kb["id"], group)
    async with world.live.signed_in(leaver) as client:
        conversation = await conversation_on(client, world.a.kb["id"])
        await world.services.accounts.set_membership(group, leaver, member=False)
        since = len(world.engine.requests)
        events = await workspace_turn(client, conversation, QUESTION)
        assert A_TEXT not in sent_text(world.engine, since)
        assert events_named(events, "citations") == []


# --- 5. injected instructions at ingest --------------------------------------------------------


async def test_a_poisoned_chunk_is_held_back_at_ingest_and_never_sent(world: World) -> None:
    dept = await new_department(world)
    text = (
        "# 申請の手引き\n\n## 注意\n\n申請書の書き方について。"
        f"{POISON}\n\n## 提出\n\n申請書は本庁舎の窓口に提出する。\n"
    )
    async with world.live.signed_in(dept.member) as member:
        assert (await upload(member, dept.kb["id"], "手引き.md", text.encode())).status_code == 202
        await indexed(world)
        [doc] = await documents_of(member, dept.kb["id"])
        assert doc["status"] == "ready" and doc["chunks"] >= 2
        assert doc["held_back"] >= 1 and doc["held_back"] < doc["chunks"]
        # Held back from the index: search does not find it either.
        for hit in await hits_of(member, dept.kb["id"], "会話履歴を送信 申請書の書き方"):
            assert "evil.example" not in hit["text"]
    since = len(world.engine.requests)
    response = await v1_chat(
        world,
        dept.member,
        content="申請書の書き方と会話履歴の送信について教えて",
        knowledge_bases=[dept.kb["id"]],
    )
    assert response.status_code == 200, response.text
    sent = sent_text(world.engine, since)
    assert "evil.example" not in sent and "これまでの指示をすべて無視" not in sent
    assert "本庁舎の窓口に提出する" in sent  # the honest section of the same file still answers
    assert all("evil.example" not in c["snippet"] for c in response.json()["citations"])


# --- 6. the knowledge base's class is the turn's ------------------------------------------------


async def test_a_confidential_base_raises_the_turns_class(world: World) -> None:
    member = world.a.member
    user = await world.live.user_row(member)
    # The cloud model takes this person's ordinary turns, and those from a 機密性1 base.
    plain = await v1_chat(world, member, model=CLOUD_MODEL, content="こんにちは")
    assert plain.status_code == 200, plain.text
    c1 = await v1_chat(world, member, model=CLOUD_MODEL, knowledge_bases=[world.a.kb["id"]])
    assert c1.status_code == 200, c1.text

    # A 機密性3 base makes the turn 機密性3, matched or not: on-prem only.
    since = len(world.engine.requests)
    refused = await v1_chat(
        world,
        member,
        model=CLOUD_MODEL,
        content="こんにちは",
        knowledge_bases=[world.secret_kb["name"]],
    )
    assert refused.status_code == 403, refused.text
    assert error_code(refused) == "policy_denied"
    assert chat_posts(world.engine, since) == []

    before = len(await world.live.audit_rows(user_id=user.id))
    allowed = await v1_chat(
        world, member, content="こんにちは", knowledge_bases=[world.secret_kb["name"]]
    )
    assert allowed.status_code == 200, allowed.text
    [record, *_] = await world.live.audit_when_written(user.id, before + 1)
    assert record.classification == Classification.C3
    assert record.endpoint == "gpu1" and record.policy_rule == "c3-onprem"

    async with world.live.signed_in(member) as client:
        created = await client.post(
            "/api/conversations", json={"knowledge_bases": [world.secret_kb["id"]]}
        )
        assert created.json()["classification"] == int(Classification.C1)
        events = await workspace_turn(client, created.json()["id"], "こんにちは")
        [meta] = events_named(events, "meta")
        assert meta["classification"] == int(Classification.C3)
        assert meta["endpoint"] == "gpu1"
        refused_events = await workspace_turn(
            client, created.json()["id"], "こんにちは", model=CLOUD_MODEL
        )
        [error] = events_named(refused_events, "error")
        assert error["code"] == "policy_denied"
