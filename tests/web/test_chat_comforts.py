"""The conversation list's search, regenerating the last answer, and the "reviewed by"
confirmation, over the workspace API on a live server."""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import orjson
import pytest

from tests.support.fake_script import Script
from tests.web.conftest import MODEL, Live

pytestmark = pytest.mark.asyncio(loop_scope="session")


async def ask(
    client: httpx.AsyncClient, conversation_id: str, text: str, path: str = ""
) -> list[Any]:
    events: list[Any] = []
    url = f"/api/conversations/{conversation_id}/{path or 'messages'}"
    async with client.stream("POST", url, json={"content": text, "model": MODEL}) as response:
        assert response.status_code == 200
        name = ""
        async for line in response.aiter_lines():
            if line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: "):
                events.append((name, orjson.loads(line[6:])))
    return events


async def conversation(client: httpx.AsyncClient, title: str, **extra: Any) -> str:
    created = await client.post("/api/conversations", json={"title": title, **extra})
    assert created.status_code == 201
    return str(created.json()["id"])


async def test_search_finds_titles_and_messages_of_ones_own_conversations(live: Live) -> None:
    live.script = Script(
        content=(
            "公用車は",
            "3日前までに予約します",
        )
    )
    word = uuid.uuid4().hex[:8]
    async with live.signed_in() as client:
        by_title = await conversation(client, f"予算 {word}")
        by_text = await conversation(client, "無題")
        await ask(client, by_text, f"公用車の予約 {word}")
        gone = await conversation(client, f"削除 {word}")
        await client.delete(f"/api/conversations/{gone}")

        found = (await client.get("/api/conversations", params={"q": word})).json()
        assert {c["id"] for c in found["conversations"]} == {by_title, by_text}
        answer = (await client.get("/api/conversations", params={"q": "3日前までに予約"})).json()
        assert by_text in {c["id"] for c in answer["conversations"]}
        # LIKE's wildcards are literal.
        wild = (await client.get("/api/conversations", params={"q": "%"})).json()
        assert wild["conversations"] == []
    async with live.signed_in() as stranger:
        theirs = (await stranger.get("/api/conversations", params={"q": word})).json()
        assert theirs["conversations"] == []


async def test_regenerate_replaces_the_last_answer_and_keeps_both_on_record(live: Live) -> None:
    async with live.signed_in() as client:
        cid = await conversation(client, "再生成")
        live.script = Script(content=("一回目",))
        await ask(client, cid, "最初の質問")
        live.script = Script(content=("二回目の",))
        await ask(client, cid, "次の質問")
        old = (await client.get(f"/api/conversations/{cid}/messages")).json()["messages"]
        old_turn = old[-1]["turn_id"]

        live.script = Script(content=("新しい", "答え"))
        events = await ask(client, cid, "", path="regenerate")
        assert ("content", {"t": "答え"}) in events
        now = (await client.get(f"/api/conversations/{cid}/messages")).json()["messages"]
        assert [(m["role"], m["content"]) for m in now] == [
            ("user", "最初の質問"),
            ("assistant", "一回目"),
            ("user", "次の質問"),
            ("assistant", "新しい答え"),
        ]
        sent = live.upstream.requests[-1].body
        assert sent is not None
        assert [m["content"] for m in sent["messages"] if m["role"] == "user"] == [
            "最初の質問",
            "次の質問",
        ]
        new_turn = now[-1]["turn_id"]
        records = {r.turn_id: r for r in await live.audit_rows()}
        assert old_turn in records and new_turn in records
        decisions = orjson.loads(records[new_turn].decisions or "[]")
        assert {
            "stage": "chat.regenerate",
            "action": "replace",
            "rule_id": "chat.regenerate",
            "replaces": old_turn,
        } in decisions

        # An engine that fails before answering leaves the old answer where it was.
        live.script = Script(status=503)
        await ask(client, cid, "", path="regenerate")
        after = (await client.get(f"/api/conversations/{cid}/messages")).json()["messages"]
        assert after[-1]["content"] == "新しい答え"


async def test_review_is_recorded_once_on_the_answer_and_in_the_audit_trail(live: Live) -> None:
    live.script = Script(content=("お知らせ文です",))
    async with live.signed_in() as client:
        started = await client.post(
            "/api/use-cases/citizen_notice/conversations",
            json={"values": {"content": "窓口を休みます"}, "model": MODEL},
        )
        cid = started.json()["conversation"]["id"]
        events = await ask(client, cid, started.json()["prompt"])
        turn_id = next(data["turn_id"] for name, data in events if name == "done")
        reviewed = await client.post(f"/api/conversations/{cid}/turns/{turn_id}/review")
        assert reviewed.status_code == 200
        first = reviewed.json()
        assert first["reviewed_by"].startswith("u-") and first["reviewed_at"]
        again = await client.post(f"/api/conversations/{cid}/turns/{turn_id}/review")
        assert again.json() == first  # the first confirmation stands
        stored = (await client.get(f"/api/conversations/{cid}/messages")).json()["messages"]
        assert stored[-1]["reviewed_by"] == first["reviewed_by"]
        missing = await client.post(f"/api/conversations/{cid}/turns/nope/review")
        assert missing.status_code == 404
    async with live.signed_in() as stranger:
        theirs = await stranger.post(f"/api/conversations/{cid}/turns/{turn_id}/review")
        assert theirs.status_code == 404
    acts = [r for r in await live.audit_rows() if r.action == "answer.review"]
    [act] = [r for r in acts if r.subject == turn_id]
    details = orjson.loads(act.decisions or "{}")
    assert details == {"conversation": cid, "model": MODEL, "use_case": "citizen_notice"}
