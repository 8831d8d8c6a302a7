"""Helpers for driving the workspace API like a browser does."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import orjson

from tests.e2e.conftest import PASSWORD


def sign_in(base_url: str, username: str) -> httpx.Client:
    client = httpx.Client(base_url=base_url, timeout=60)
    response = client.post("/login", data={"username": username, "password": PASSWORD, "next": "/"})
    assert response.status_code == 303, response.text
    page = client.get("/").text
    marker = 'name="csrf-token" content="'
    start = page.index(marker) + len(marker)
    client.headers["x-csrf-token"] = page[start : page.index('"', start)]
    return client


def stream_message(
    client: httpx.Client, conversation_id: str, content: str, model: str
) -> Iterator[tuple[str, Any]]:
    """Yield (event, data) pairs of the streaming message endpoint as they arrive."""
    with client.stream(
        "POST",
        f"/api/conversations/{conversation_id}/messages",
        json={"content": content, "model": model},
    ) as response:
        assert response.status_code == 200
        name = "message"
        for line in response.iter_lines():
            if line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: "):
                yield name, orjson.loads(line[6:])


def ask_until_answered(
    client: httpx.Client, conversation_id: str, content: str, model: str, attempts: int = 3
) -> list[tuple[str, Any]]:
    """The events of the first turn that did not end in engine_no_answer.

    The tiny demo model now and then ends its turn at once; mamori then rightly reports
    engine_no_answer and keeps nothing. Any other outcome is returned as it came.
    """
    for _attempt in range(attempts):
        events = list(stream_message(client, conversation_id, content, model))
        codes = [data.get("code") for name, data in events if name == "error"]
        if codes != ["engine_no_answer"]:
            return events
    raise AssertionError(f"the embedded model answered nothing {attempts} times")
