"""The workspace API: sign-in, CSRF, conversations, and the streaming message endpoint."""

from __future__ import annotations

from typing import Any

import httpx
import orjson

from mamori.domain.audit import TurnStatus
from mamori.store.repos import reasoning_store
from tests.support.fake_upstream import Script
from tests.web.conftest import DEAD_MODEL, MODEL, PASSWORD, Live


def parse_sse(text: str) -> list[tuple[str, Any]]:
    events = []
    for block in text.strip().split("\n\n"):
        name, data = "message", ""
        for line in block.split("\n"):
            if line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: "):
                data = line[6:]
        events.append((name, orjson.loads(data)))
    return events


async def send(
    client: httpx.AsyncClient, conversation_id: str, **body: Any
) -> list[tuple[str, Any]]:
    response = await client.post(
        f"/api/conversations/{conversation_id}/messages", json={"model": MODEL, **body}
    )
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/event-stream")
    return parse_sse(response.text)


async def new_conversation(client: httpx.AsyncClient) -> str:
    response = await client.post("/api/conversations", json={"title": "相談"})
    assert response.status_code == 201
    return str(response.json()["id"])


async def test_pages_require_sign_in(live: Live) -> None:
    async with httpx.AsyncClient(base_url=live.base_url) as client:
        page = await client.get("/")
        api = await client.get("/api/conversations")
        wrong = await client.post(
            "/login", data={"username": "nobody", "password": "wrong-password!!", "next": "/"}
        )
    assert page.status_code == 303 and page.headers["location"].startswith("/login")
    assert api.status_code == 401
    assert wrong.status_code == 401
    assert 'role="alert"' in wrong.text  # the page says the sign-in failed


async def test_login_never_redirects_off_site(live: Live) -> None:
    username = await live.new_user()
    async with httpx.AsyncClient(base_url=live.base_url) as client:
        response = await client.post(
            "/login", data={"username": username, "password": PASSWORD, "next": "//evil.example/"}
        )
    assert response.status_code == 303
    assert response.headers["location"] == "/"


async def test_mutations_need_the_csrf_token(live: Live) -> None:
    async with live.signed_in() as client:
        del client.headers["x-csrf-token"]
        refused = await client.post("/api/conversations", json={"title": "x"})
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "csrf_failed"


async def test_a_turn_streams_and_is_saved_with_one_audit_record(live: Live) -> None:
    live.script = Script(reasoning=("考え", "中"), content=("東京", "です"))
    async with live.signed_in() as client:
        conversation_id = await new_conversation(client)
        events = await send(client, conversation_id, content="首都は？", reasoning_effort="low")
        names = [name for name, _ in events]
        assert names[0] == "meta" and names[-1] == "done"
        meta = events[0][1]
        assert (meta["endpoint"], meta["residency"]) == ("gpu1", "onprem")
        assert "".join(d["t"] for n, d in events if n == "content") == "東京です"
        assert "".join(d["t"] for n, d in events if n == "reasoning") == "考え中"
        assert events[-1][1]["status"] == "complete"

        history = (await client.get(f"/api/conversations/{conversation_id}/messages")).json()
        [question, answer] = history["messages"]
        assert (question["role"], question["content"]) == ("user", "首都は？")
        assert (answer["content"], answer["reasoning"], answer["status"]) == (
            "東京です",
            "考え中",
            "complete",
        )
        records = await live.audit_rows(turn_id=meta["turn_id"])
        assert len(records) == 1
        assert records[0].face == "ui" and records[0].conversation_id == conversation_id
        assert records[0].reasoning_effort == "low"


async def test_history_is_sent_to_the_engine_without_old_reasoning(live: Live) -> None:
    live.script = Script(reasoning=("secret",), content=("one",))
    async with live.signed_in() as client:
        conversation_id = await new_conversation(client)
        await send(client, conversation_id, content="first")
        await send(client, conversation_id, content="second")
    body = live.upstream.requests[-1].body
    assert body is not None
    assert body["messages"] == [
        {"role": "user", "content": "first"},
        {"role": "assistant", "content": "one"},
        {"role": "user", "content": "second"},
    ]


async def test_engine_failure_before_first_byte_saves_nothing(live: Live) -> None:
    live.script = Script(status=503)
    async with live.signed_in() as client:
        conversation_id = await new_conversation(client)
        client.cookies.set("mamori_lang", "ja")
        events = await send(client, conversation_id, content="保存されないはず")
        [(_, error)] = [(n, d) for n, d in events if n == "error"]
        assert error["code"] == "engine_http_error" and error["partial_saved"] is False
        assert any("\u3040" <= ch <= "\u30ff" for ch in error["message"])  # Japanese text
        assert events[-1] == (
            "done",
            {"status": "error", "turn_id": events[-1][1]["turn_id"]},
        )
        history = (await client.get(f"/api/conversations/{conversation_id}/messages")).json()
        assert history["messages"] == []
        [record] = await live.audit_rows(turn_id=events[-1][1]["turn_id"])
        assert record.status is TurnStatus.ERROR


async def test_engine_dying_mid_answer_keeps_the_partial_answer(live: Live) -> None:
    live.script = Script(content=30, disconnect_after=4)
    async with live.signed_in() as client:
        client.cookies.set("mamori_lang", "en")
        conversation_id = await new_conversation(client)
        events = await send(client, conversation_id, content="long answer please")
        [(_, error)] = [(n, d) for n, d in events if n == "error"]
        assert error["partial_saved"] is True and error["code"] == "engine_stream_broken"
        assert events[-1][1]["status"] == "incomplete"
        history = (await client.get(f"/api/conversations/{conversation_id}/messages")).json()
        answer = history["messages"][-1]
        assert answer["status"] == "incomplete" and answer["content"].startswith(" t0")
        [record] = await live.audit_rows(turn_id=events[-1][1]["turn_id"])
        assert record.status is TurnStatus.INCOMPLETE

        # The engine is fine again: the next message works in the same conversation.
        live.script = Script(content=("ok",))
        again = await send(client, conversation_id, content="again")
        assert again[-1][1]["status"] == "complete"


async def test_unreachable_engine_gives_a_clear_message(live: Live) -> None:
    async with live.signed_in() as client:
        conversation_id = await new_conversation(client)
        response = await client.post(
            f"/api/conversations/{conversation_id}/messages",
            json={"model": DEAD_MODEL, "content": "hello"},
        )
        [(_, error)] = [(n, d) for n, d in parse_sse(response.text) if n == "error"]
    assert error["code"] == "engine_unavailable"


async def test_conversations_are_private_and_can_be_renamed_and_deleted(live: Live) -> None:
    async with live.signed_in() as owner, live.signed_in() as other:
        conversation_id = await new_conversation(owner)
        assert (
            await other.get(f"/api/conversations/{conversation_id}/messages")
        ).status_code == 404
        assert (
            await other.patch(f"/api/conversations/{conversation_id}", json={"title": "x"})
        ).status_code == 404
        assert (await other.delete(f"/api/conversations/{conversation_id}")).status_code == 404
        listed = (await other.get("/api/conversations")).json()["conversations"]
        assert conversation_id not in [c["id"] for c in listed]

        renamed = await owner.patch(
            f"/api/conversations/{conversation_id}", json={"title": "新しい名前"}
        )
        assert renamed.json()["title"] == "新しい名前"
        assert (await owner.delete(f"/api/conversations/{conversation_id}")).status_code == 204
        listed = (await owner.get("/api/conversations")).json()["conversations"]
        assert conversation_id not in [c["id"] for c in listed]


async def test_responses_carry_security_headers(live: Live) -> None:
    async with httpx.AsyncClient(base_url=live.base_url) as client:
        response = await client.get("/login")
    assert "default-src 'self'" in response.headers["content-security-policy"]
    assert response.headers["x-content-type-options"] == "nosniff"


async def test_health_and_readiness(live: Live) -> None:
    async with httpx.AsyncClient(base_url=live.base_url) as client:
        health = await client.get("/healthz")
        ready = await client.get("/readyz")
    assert health.json() == {"status": "ok"}
    body = ready.json()
    assert ready.status_code == 200 and body["database"]["reachable"] is True
    assert body["engines"]["gpu1"]["reachable"] is True
    assert body["engines"]["dead"]["reachable"] is False


async def test_unknown_pages_get_a_localised_error_page(live: Live) -> None:
    async with httpx.AsyncClient(base_url=live.base_url) as client:
        response = await client.get("/no-such-page", headers={"accept-language": "ja"})
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert '<html lang="ja"' in response.text


async def test_password_guessing_is_slowed_down(live: Live) -> None:
    username = await live.new_user()
    async with httpx.AsyncClient(base_url=live.base_url) as client:
        for _ in range(5):
            wrong = await client.post(
                "/login", data={"username": username, "password": "wrong-password!!", "next": "/"}
            )
            assert wrong.status_code == 401
        blocked = await client.post(
            "/login", data={"username": username, "password": PASSWORD, "next": "/"}
        )
    assert blocked.status_code == 429


async def test_deleting_the_conversation_mid_answer_keeps_the_audit_record(live: Live) -> None:
    live.script = Script(reasoning=("r1", "r2"), content=40, delay=0.02)
    async with live.signed_in() as client:
        conversation_id = await new_conversation(client)
        turn_id = None
        async with client.stream(
            "POST",
            f"/api/conversations/{conversation_id}/messages",
            json={"model": MODEL, "content": "long"},
        ) as response:
            deleted = False
            async for line in response.aiter_lines():
                if line.startswith("data: ") and '"turn_id"' in line:
                    turn_id = orjson.loads(line[6:])["turn_id"]
                if line.startswith("event: content") and not deleted:
                    gone = await client.delete(f"/api/conversations/{conversation_id}")
                    assert gone.status_code == 204
                    deleted = True
        assert turn_id is not None
        [record] = await live.audit_rows(turn_id=turn_id)
        assert record.status is TurnStatus.OK
        assert (
            await client.get(f"/api/conversations/{conversation_id}/messages")
        ).status_code == 404
        # The auditors' copy of the reasoning outlives the conversation.
        kept = await live.services.db.read(
            lambda c: reasoning_store.turn_reasoning_text(c, turn_id)
        )
        assert kept == "r1r2"


async def test_sign_in_from_another_site_is_refused(live: Live) -> None:
    username = await live.new_user()
    async with httpx.AsyncClient(base_url=live.base_url) as client:
        response = await client.post(
            "/login",
            data={"username": username, "password": PASSWORD, "next": "/"},
            headers={"origin": "http://evil.example"},
        )
    assert response.status_code == 403
    assert "mamori_session" not in response.cookies


async def test_session_cookies_are_httponly_samesite_and_secure_over_tls(live: Live) -> None:
    username = await live.new_user()
    form = {"username": username, "password": PASSWORD, "next": "/"}
    async with httpx.AsyncClient(base_url=live.base_url) as client:
        plain = await client.post("/login", data=form)
        # A TLS-terminating proxy on loopback says so; uvicorn trusts it there by default.
        tls = await client.post("/login", data=form, headers={"x-forwarded-proto": "https"})
        lang = await client.get("/lang/en", headers={"x-forwarded-proto": "https"})
    for response, secure in ((plain, False), (tls, True)):
        cookie = response.headers["set-cookie"].lower()
        assert cookie.startswith("mamori_session=")
        assert "httponly" in cookie and "samesite=lax" in cookie
        assert ("; secure" in cookie) is secure
    assert "; secure" in lang.headers["set-cookie"].lower()
