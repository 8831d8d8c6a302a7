"""End to end against the real embedded llama.cpp engine: the OpenAI SDK, persistence and
audit, and an engine killed in the middle of an answer."""

from __future__ import annotations

import openai
import pytest

from mamori.domain.audit import AuditRecord, TurnStatus
from mamori.store.database import Database
from mamori.store.repos import audit
from tests.e2e.conftest import Server
from tests.e2e.support import ask_until_answered, sign_in, stream_message

pytestmark = pytest.mark.e2e
MODEL = "gemma-3-270m"


def audit_records(server: Server, turn_id: str) -> list[AuditRecord]:
    db = Database(f"sqlite:///{server.data_dir / 'mamori.db'}")
    try:
        return [r for _, r in db.read_sync(lambda c: audit.list_audit(c, turn_id=turn_id))]
    finally:
        db.dispose()


def test_openai_sdk_lists_models_and_streams_a_chat(server: Server) -> None:
    key = server.cli("keys", "create", server.new_user()).strip()
    client = openai.OpenAI(base_url=f"{server.url}/v1", api_key=key, max_retries=0)
    assert MODEL in [m.id for m in client.models.list().data]
    ids, text = set(), []
    for attempt in range(3):
        try:
            stream = client.chat.completions.create(
                model=MODEL,
                messages=[{"role": "user", "content": "日本の首都はどこですか？"}],
                stream=True,
                max_tokens=24,
            )
        except openai.APIStatusError as exc:
            # The tiny base model now and then ends its turn at once. mamori then answers
            # 502 engine_no_answer, rightly; what is under test here is the path, so ask again.
            if exc.status_code != 502 or "engine_no_answer" not in str(exc.body) or attempt == 2:
                raise
            continue
        for chunk in stream:
            ids.add(chunk.id)
            for choice in chunk.choices:
                text.append(choice.delta.content or "")
        break
    assert "".join(text).strip(), "the embedded engine streamed no text"
    [completion_id] = ids
    [record] = audit_records(server, completion_id.removeprefix("chatcmpl-"))
    assert record.status is TurnStatus.OK
    assert (record.endpoint, record.residency, record.model) == ("local", "onprem", MODEL)
    assert record.completion_tokens > 0


def test_engine_killed_mid_answer_then_the_next_message_works(server: Server) -> None:
    client = sign_in(server.url, server.new_user())
    # The demo model samples: now and then its whole output reads as reasoning and the turn
    # ends with engine_no_answer before any answer text. Such a turn cannot be cut mid-answer,
    # so the test asks again (in a new conversation) until an answer starts streaming.
    for _attempt in range(3):
        conversation = client.post("/api/conversations", json={"title": "kill"}).json()["id"]
        events: list[tuple[str, dict[str, object]]] = []
        killed = False
        for name, data in stream_message(
            client, conversation, "1から200まで、数字を一つずつ改行して書いてください。", MODEL
        ):
            events.append((name, data))
            if name == "content" and not killed:
                engine = server.kill_engine()
                killed = True
        if killed:
            break
    names = [n for n, _ in events]
    assert killed and "error" in names, names
    error = dict(events)["error"]
    assert error["partial_saved"] is True
    assert error["code"] in ("engine_stream_broken", "engine_timeout")
    done = events[-1][1]
    assert events[-1][0] == "done" and done["status"] == "incomplete"

    history = client.get(f"/api/conversations/{conversation}/messages").json()["messages"]
    assert history[-1]["status"] == "incomplete" and history[-1]["content"]
    [record] = audit_records(server, str(done["turn_id"]))
    assert record.status is TurnStatus.INCOMPLETE

    # The supervisor restarts the engine; then the conversation carries on.
    server.wait_engine_back(engine)
    again = ask_until_answered(client, conversation, "こんにちは", MODEL)
    assert again[-1][0] == "done" and again[-1][1]["status"] == "complete", again
    assert any(n == "content" for n, _ in again)
