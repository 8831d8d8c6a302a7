"""Drive mamori's two faces and reduce what a client saw to one comparable ``Outcome``.

``/v1/chat/completions`` is read as raw SSE (not through the SDK): a conformance check must see
every byte, including an in-band error chunk and whether ``[DONE]`` came. The workspace face is
``POST /api/conversations/{id}/messages`` with its app events.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import httpx
import orjson


@dataclass
class Call:
    id: str = ""
    name: str = ""
    arguments: str = ""


@dataclass
class Outcome:
    """What one client saw of one turn."""

    http_status: int = 200
    content: str = ""
    reasoning: str = ""
    calls: list[Call] = field(default_factory=list)
    finish_reason: str | None = None
    usage: dict[str, int] | None = None
    error_code: str | None = None
    # Whether the error came before any answer reached the client (an HTTP error, or the UI's
    # ``partial_saved`` false); None without an error.
    before_first_byte: bool | None = None
    done: bool = False  # /v1: the [DONE] sentinel; UI: the closing "done" event
    turn_id: str | None = None
    raw: str = ""  # everything the client received, for "no markup anywhere" checks


def _sse_blocks(text: str) -> list[tuple[str, str]]:
    blocks = []
    for block in text.strip().split("\n\n"):
        name, data = "message", ""
        for line in block.split("\n"):
            if line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: "):
                data = line[6:]
        if data:
            blocks.append((name, data))
    return blocks


def _error_outcome(response: httpx.Response) -> Outcome:
    error = response.json()["error"]
    return Outcome(
        http_status=response.status_code,
        error_code=error["code"],
        before_first_byte=True,
        raw=response.text,
    )


async def v1_stream(client: httpx.AsyncClient, key: str, body: dict[str, Any]) -> Outcome:
    response = await client.post(
        "/v1/chat/completions",
        json={**body, "stream": True, "stream_options": {"include_usage": True}},
        headers={"authorization": f"Bearer {key}"},
    )
    if response.status_code != 200:
        return _error_outcome(response)
    outcome = Outcome(raw=response.text)
    calls: dict[int, Call] = {}
    for _, data in _sse_blocks(response.text):
        if data == "[DONE]":
            outcome.done = True
            continue
        chunk = orjson.loads(data)
        if "error" in chunk:
            outcome.error_code = chunk["error"]["code"]
            outcome.before_first_byte = False
            continue
        outcome.turn_id = chunk["id"].removeprefix("chatcmpl-")
        outcome.usage = chunk.get("usage") or outcome.usage
        for choice in chunk["choices"]:
            delta = choice["delta"]
            outcome.content += delta.get("content") or ""
            outcome.reasoning += delta.get("reasoning") or ""
            for piece in delta.get("tool_calls") or ():
                call = calls.setdefault(piece["index"], Call())
                call.id += piece.get("id") or ""
                call.name += piece["function"].get("name") or ""
                call.arguments += piece["function"].get("arguments") or ""
            outcome.finish_reason = choice.get("finish_reason") or outcome.finish_reason
    outcome.calls = [calls[i] for i in sorted(calls)]
    return outcome


async def v1_complete(client: httpx.AsyncClient, key: str, body: dict[str, Any]) -> Outcome:
    response = await client.post(
        "/v1/chat/completions",
        json={**body, "stream": False},
        headers={"authorization": f"Bearer {key}"},
    )
    if response.status_code != 200:
        return _error_outcome(response)
    result = response.json()
    [choice] = result["choices"]
    message = choice["message"]
    return Outcome(
        content=message.get("content") or "",
        reasoning=message.get("reasoning") or "",
        calls=[
            Call(c["id"], c["function"]["name"], c["function"]["arguments"])
            for c in message.get("tool_calls") or ()
        ],
        finish_reason=choice["finish_reason"],
        usage=result.get("usage"),
        done=True,
        turn_id=result["id"].removeprefix("chatcmpl-"),
        raw=response.text,
    )


async def ui(client: httpx.AsyncClient, conversation_id: str, model: str, text: str) -> Outcome:
    response = await client.post(
        f"/api/conversations/{conversation_id}/messages", json={"model": model, "content": text}
    )
    assert response.status_code == 200, response.text
    outcome = Outcome(raw=response.text)
    for name, data in _sse_blocks(response.text):
        event = orjson.loads(data)
        if name == "content":
            outcome.content += event["t"]
        elif name == "reasoning":
            outcome.reasoning += event["t"]
        elif name == "usage":
            outcome.usage = event
        elif name == "error":
            outcome.error_code = event["code"]
            outcome.before_first_byte = not event["partial_saved"]
            assert event["message"] and not event["message"].startswith("error.")
        elif name == "done":
            outcome.done = True
            outcome.turn_id = event["turn_id"]
            outcome.finish_reason = event["status"]
    return outcome
