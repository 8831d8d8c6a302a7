"""The reasoning policy through both faces: hidden and summary displays given by groups, the
effort cap, raw reasoning kept for auditors only, and API tool loops that never saw it."""

from __future__ import annotations

import json
import uuid
from typing import Any

import httpx
import orjson

from mamori.domain.principal import Role
from mamori.domain.reasoning import ReasoningDisplay
from tests.support.fake_upstream import Script, ToolCallScript
from tests.web.conftest import MODEL, SUMMARY_MODEL, Live
from tests.web.test_app_api import new_conversation, send

REASONING = ("秘密の", "思考", "です")
SUMMARY = "東京について検討しました。"


async def member_of(live: Live, username: str, **policy: Any) -> None:
    name = f"g-{uuid.uuid4().hex[:8]}"
    await live.services.accounts.create_group(name, **policy)
    await live.services.accounts.set_membership(name, username, member=True)


def answer_with_summariser(body: dict[str, Any]) -> Script:
    if body["model"] == SUMMARY_MODEL:
        return Script(reasoning_field=None, content=(SUMMARY,))
    return Script(reasoning=REASONING, content=("東京", "です"))


async def v1_stream(live: Live, key: str, **extra: Any) -> list[dict[str, Any]]:
    body = {"model": MODEL, "stream": True, "messages": [{"role": "user", "content": "首都は"}]}
    async with httpx.AsyncClient(base_url=live.base_url, timeout=10) as client:
        response = await client.post(
            "/v1/chat/completions",
            json={**body, **extra},
            headers={"authorization": f"Bearer {key}"},
        )
    assert response.status_code == 200, response.text
    lines = [line[6:] for line in response.text.splitlines() if line.startswith("data: {")]
    return [orjson.loads(line) for line in lines]


def deltas(chunks: list[dict[str, Any]], name: str) -> str:
    return "".join(c["choices"][0]["delta"].get(name) or "" for c in chunks if c.get("choices"))


async def test_hidden_shows_that_the_model_thought_but_not_what(live: Live) -> None:
    live.script = Script(reasoning=REASONING, content=("東京", "です"))
    username = await live.new_user()
    await member_of(live, username, reasoning_display=ReasoningDisplay.HIDDEN)
    async with live.signed_in(username) as client:
        conversation = await new_conversation(client)
        events = await send(client, conversation, content="首都は")
        history = (await client.get(f"/api/conversations/{conversation}/messages")).json()
    names = [n for n, _ in events]
    assert "reasoning" not in names
    status = [d for n, d in events if n == "reasoning_status"]
    assert status and status[-1]["done"] is True and status[-1]["tokens"] == len(REASONING)
    assert "".join(d["t"] for n, d in events if n == "content") == "東京です"
    assert "秘密" not in json.dumps(events, ensure_ascii=False)
    [_, answer] = history["messages"]
    assert answer["reasoning"] is None and answer["reasoning_summary"] is None
    assert answer["reasoning_tokens"] == len(REASONING) and answer["reasoning_ms"] >= 0
    # Stored all the same, for auditors.
    user = await live.user_row(username)
    from mamori.store.repos import messages

    rows = await live.services.db.read(lambda c: messages.list_messages(c, conversation))
    assert rows[1].reasoning == "".join(REASONING)
    assert user is not None

    key = await live.api_key(username)
    chunks = await v1_stream(live, key)
    assert deltas(chunks, "reasoning") == "" and deltas(chunks, "content") == "東京です"


async def test_summary_replaces_the_reasoning_in_both_faces(live: Live) -> None:
    live.script_by_request = answer_with_summariser
    username = await live.new_user()
    await member_of(live, username, reasoning_display=ReasoningDisplay.SUMMARY)
    async with live.signed_in(username) as client:
        conversation = await new_conversation(client)
        events = await send(client, conversation, content="首都は")
        history = (await client.get(f"/api/conversations/{conversation}/messages")).json()
    names = [n for n, _ in events]
    assert "reasoning" not in names and names[-1] == "done"
    assert [d["t"] for n, d in events if n == "reasoning_summary"] == [SUMMARY]
    assert history["messages"][1]["reasoning_summary"] == SUMMARY
    assert history["messages"][1]["reasoning"] is None
    summariser_calls = [
        r.body for r in live.upstream.requests if r.body and r.body["model"] == SUMMARY_MODEL
    ]
    # The summariser saw the raw reasoning, at low effort.
    assert summariser_calls[-1]["reasoning_effort"] == "low"
    assert "".join(REASONING) in summariser_calls[-1]["messages"][-1]["content"]

    chunks = await v1_stream(live, await live.api_key(username))
    assert deltas(chunks, "reasoning") == SUMMARY and deltas(chunks, "content") == "東京です"
    assert chunks[-1]["choices"] == [] or chunks[-1]["choices"][0]["finish_reason"] == "stop"


async def test_the_most_revealing_group_wins_and_raw_passes_through(live: Live) -> None:
    live.script = Script(reasoning=REASONING, content=("はい",))
    username = await live.new_user()
    await member_of(live, username, reasoning_display=ReasoningDisplay.HIDDEN)
    await member_of(live, username, reasoning_display=ReasoningDisplay.RAW)
    chunks = await v1_stream(live, await live.api_key(username))
    assert deltas(chunks, "reasoning") == "".join(REASONING)


async def test_a_group_caps_reasoning_effort_and_the_audit_records_what_was_used(
    live: Live,
) -> None:
    live.script = Script(reasoning=REASONING, content=("はい",))
    username = await live.new_user()
    await member_of(live, username, max_reasoning_effort="low")
    user = await live.user_row(username)
    await v1_stream(live, await live.api_key(username), reasoning_effort="high")
    assert live.upstream.requests[-1].body is not None
    assert live.upstream.requests[-1].body["reasoning_effort"] == "low"
    [record] = await live.audit_when_written(user.id)
    assert record.reasoning_effort == "low"

    # Without a request the engine's default (medium) would exceed the cap: low is sent.
    await v1_stream(live, await live.api_key(username))
    assert live.upstream.requests[-1].body is not None
    assert live.upstream.requests[-1].body["reasoning_effort"] == "low"


async def test_an_api_tool_loop_gets_its_hidden_reasoning_back(live: Live) -> None:
    call = ToolCallScript("call_hidden_1", "get_weather", ('{"city": "東京"}',))
    live.script = Script(reasoning=REASONING, content=(), tool_calls=(call,))
    owner = await live.new_user()
    await member_of(live, owner, reasoning_display=ReasoningDisplay.HIDDEN)
    key = await live.api_key(owner)
    tools = [{"type": "function", "function": {"name": "get_weather", "parameters": {}}}]
    first = await v1_stream(live, key, tools=tools)
    assert deltas(first, "reasoning") == ""
    user = await live.user_row(owner)
    await live.audit_when_written(user.id)

    second_step = {
        "tools": tools,
        "messages": [
            {"role": "user", "content": "首都は"},
            {
                "role": "assistant",
                "content": "",
                "tool_calls": [
                    {
                        "id": "call_hidden_1",
                        "type": "function",
                        "function": {"name": "get_weather", "arguments": '{"city": "東京"}'},
                    }
                ],
            },
            {"role": "tool", "tool_call_id": "call_hidden_1", "content": "晴れ"},
        ],
    }
    live.script = Script(reasoning=(), content=("晴れです",))
    await v1_stream(live, key, **second_step)
    sent = live.upstream.requests[-1].body
    assert sent is not None and sent["messages"][1]["reasoning"] == "".join(REASONING)

    # Someone else presenting the same call id gets nothing of it.
    stranger = await live.api_key()
    await v1_stream(live, stranger, **second_step)
    sent = live.upstream.requests[-1].body
    assert sent is not None and "reasoning" not in sent["messages"][1]


async def test_only_auditors_read_raw_reasoning_and_each_read_is_recorded(live: Live) -> None:
    live.script = Script(reasoning=REASONING, content=("はい",))
    asker = await live.new_user()
    await member_of(live, asker, reasoning_display=ReasoningDisplay.HIDDEN)
    await v1_stream(live, await live.api_key(asker))
    asker_row = await live.user_row(asker)
    [turn] = await live.audit_when_written(asker_row.id)

    async with live.signed_in(asker) as client:
        refused = await client.get(f"/api/audit/turns/{turn.turn_id}/reasoning")
    assert refused.status_code == 403

    auditor = await live.new_user(Role.AUDITOR)
    async with live.signed_in(auditor) as client:
        found = await client.get(f"/api/audit/turns/{turn.turn_id}/reasoning")
        missing = await client.get("/api/audit/turns/no-such-turn/reasoning")
    assert found.status_code == 200
    assert found.json()["reasoning"] == "".join(REASONING)
    assert found.json()["asked_by"] == asker
    assert missing.status_code == 404
    auditor_row = await live.user_row(auditor)
    [read] = await live.audit_when_written(auditor_row.id)
    assert (read.action, read.subject) == ("reasoning.read", turn.turn_id)
