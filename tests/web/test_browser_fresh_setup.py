"""From a fresh install to a working setup, entirely in the browser (real headless Chromium):
the only command-line step is `mamori users create` for the first administrator. That
administrator then adds a vLLM endpoint and tests it, creates a group (and sets its policy)
and a person, a
knowledge base with a document, and a use case that answers from it; the new person signs
in with the password the console showed once and gets an answer through the new endpoint,
from the new knowledge base.

The vLLM server is the scripted fake engine on loopback speaking vLLM's wire format; the
server under test starts with no endpoint at all, and its egress control admits the new one
only once the console has saved it.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import orjson
import pytest
import pytest_asyncio
from playwright.async_api import Browser, FilePayload, expect

from mamori.app import create_app
from tests.support.browser import screenshot, sign_in
from tests.support.fake_upstream import FakeUpstream, Script
from tests.web.conftest import MODEL, Live, isolated_settings, serve

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]

ROOT_PASSWORD = "first admin password, long enough"
MAMORI = str(Path(sys.executable).with_name("mamori"))
RULE = "第3条 公用車の予約は、使用日の3日前までに総務課へ申請する。"


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def fresh(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Live]:
    upstream = FakeUpstream(
        script=Script(content=("3日前までに", "申請してください [1]。")), models=(MODEL,)
    )
    await upstream.start()
    data_dir = tmp_path_factory.mktemp("fresh-install")
    settings = isolated_settings(data_dir)
    app = create_app(settings)
    server, task, port = await serve(app)
    env = {
        **os.environ,
        "MAMORI_DATA_DIR": str(data_dir),
        "MAMORI_DATABASE_URL": str(settings.database_url),
        "MAMORI_LOCAL_ENGINE": "false",
    }
    done = await asyncio.to_thread(create_first_admin, env)
    assert done.returncode == 0, done.stderr
    yield Live(f"http://127.0.0.1:{port}", upstream, app.state.services)
    server.should_exit = True
    await task
    await upstream.stop()


def create_first_admin(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """The one command-line step of a fresh install."""
    return subprocess.run(
        [MAMORI, "users", "create", "root", "--admin"],
        input=ROOT_PASSWORD + "\n",
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


async def test_an_admin_sets_up_a_fresh_install_from_the_ui(browser: Browser, fresh: Live) -> None:
    assert fresh.services.registry.endpoints() == []
    context = await browser.new_context(locale="ja-JP", viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    base = fresh.base_url
    await sign_in(page, base, "root", ROOT_PASSWORD, "/admin")
    await screenshot(page, "admin-console-ja-1280")

    # 1. The vLLM endpoint, assessed for everything up to 機密性3, and its connection test.
    await page.click(".usecase-card[data-section='endpoints'] a")
    await page.fill("#ep-name", "gpu1")
    await page.fill("#ep-url", fresh.upstream.base_url)
    await page.select_option("#ep-dialect", "vllm")
    await page.select_option("#ep-residency", "onprem")
    await page.fill("#ep-models", MODEL)
    await page.select_option("#ep-max-class", "3")
    await page.click("#endpoint-save")
    row = page.locator("#endpoint-table tr.endpoint-row[data-name='gpu1']")
    await expect(row.locator(".endpoint-health")).to_have_text("稼働中")
    await row.locator("button.endpoint-test").click()
    await expect(page.locator("#endpoint-test-result")).to_contain_text("gpu1: 応答あり")
    await screenshot(page, "admin-endpoints-ja-1280")

    # 2. A group, and a person in it; the first password is shown once.
    await page.goto(base + "/admin/users")
    await page.fill("#new-group-name", "soumu")
    await page.fill("#new-group-display", "総務課")
    await page.click("#group-create")
    group = page.locator("#group-table tr.group-row[data-name='soumu']")
    await expect(group).to_be_visible()
    # Its members work at 機密性2 at least, and see a summary of the model's reasoning.
    await group.locator("button.group-edit").click()
    await page.select_option("#group-class", "2")
    await page.select_option("#group-display", "summary")
    await page.click("#group-save")
    await expect(group.locator(".group-class")).to_have_text("機密性2")
    await expect(group.locator(".group-display")).to_have_text("要約を表示")
    await page.fill("#new-username", "tanaka")
    await page.fill("#new-display-name", "田中 花子")
    await page.select_option("#new-groups", ["soumu"])
    await page.click("#user-create")
    secret = page.locator("#user-secret input.secret-value")
    await expect(secret).to_be_visible()
    password = await secret.input_value()
    person = page.locator("#user-table tr.user-row[data-username='tanaka']")
    await expect(person.locator(".user-groups")).to_have_text("soumu")
    await screenshot(page, "admin-users-ja-1280")

    # 3. A knowledge base owned by the group, with one document.
    await page.goto(base + "/knowledge")
    await page.fill("#kb-name", "総務規程")
    await page.select_option("#kb-group", "soumu")
    await page.click("#kb-create-form button[type=submit]")
    await expect(page.locator("#kb-title")).to_have_text("総務規程")
    document: FilePayload = {
        "name": "公用車規程.txt",
        "mimeType": "text/plain",
        "buffer": ("公用車管理規程\n" + RULE).encode(),
    }
    await page.set_input_files("#kb-files", files=[document])
    await page.click("#kb-upload")
    doc = page.locator("#kb-documents tr.doc-row")
    await expect(doc).to_have_attribute("data-status", "ready", timeout=20_000)

    # 4. A use case that answers from that knowledge base, through that model.
    await page.goto(base + "/admin/use-cases")
    await page.click("#usecase-new")
    definition = orjson.loads(await page.input_value("#usecase-definition"))
    definition.update(
        id="car_rules",
        title_ja="規程の確認",
        title_en="Check the rules",
        category="document",
        knowledge="optional",
        knowledge_bases=["総務規程"],
        model=MODEL,
        prompt="規程に基づいて答えてください。\n{{ text }}",
    )
    await page.fill("#usecase-definition", orjson.dumps(definition).decode())
    await page.click("#usecase-save")
    await expect(page.locator("#usecase-status")).to_contain_text("規程の確認")
    await page.click("form.logout-form button")
    await page.wait_for_url("**/login")

    # The new person signs in and gets an answer through all of it.
    await sign_in(page, base, "tanaka", password, "/use-cases")
    await page.locator(".usecase-card[data-id='car_rules'] a").click()
    await expect(page.locator("#kb-picker-summary")).to_have_text("ナレッジ: 1件")
    await page.fill("#uc-text", "公用車の予約はいつまでに申請しますか")
    await page.click("#usecase-run")
    answer = page.locator(".message.assistant")
    await expect(answer).to_have_attribute("data-status", "complete")
    await expect(answer.locator(".answer")).to_contain_text("3日前までに申請してください")
    await expect(page.locator("#conversation-classification")).to_have_text("機密性2")
    await expect(answer.locator("li.citation")).to_have_count(1)
    posts = [r for r in fresh.upstream.requests if r.method == "POST"]
    sent = orjson.dumps(posts[-1].body).decode()
    assert "使用日の3日前までに総務課へ申請する" in sent
    assert errors == [], errors
    await context.close()
