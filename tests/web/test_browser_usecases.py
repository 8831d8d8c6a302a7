"""Use cases in a real headless Chromium: a clerk opens the gallery, fills in 要約, sees the
field the server refused, runs it, reads the streamed answer and continues in the chat; an
administrator adds a use case from the console, hides it, and exports the set.

The engine is the shared scripted one; the embedded engine runs every built-in use case in
tests/e2e/test_use_cases.py."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import orjson
import pytest
import pytest_asyncio
from playwright.async_api import Browser, FilePayload, Page, expect

from mamori.domain.principal import Role
from mamori.usecases.catalog import builtin_use_cases
from tests.support.browser import screenshot, sign_in
from tests.support.fake_script import Script
from tests.web.conftest import PASSWORD, Live

pytestmark = [pytest.mark.browser]


async def signed_in_page(browser: Browser, live: Live, username: str, path: str) -> Page:
    context = await browser.new_context(locale="ja-JP", viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    errors: list[str] = []
    page.errors = errors  # type: ignore[attr-defined]
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    await sign_in(page, live.base_url, username, PASSWORD, path)
    return page


@pytest_asyncio.fixture(loop_scope="session")
async def clerk_page(browser: Browser, live: Live) -> AsyncIterator[Page]:
    page = await signed_in_page(browser, live, await live.new_user(), "/use-cases")
    yield page
    await page.context.close()
    assert page.errors == []  # type: ignore[attr-defined]


@pytest.mark.asyncio(loop_scope="session")
async def test_a_clerk_runs_a_use_case_and_continues_in_the_chat(
    live: Live, clerk_page: Page
) -> None:
    page = clerk_page
    # Every built-in use case is offered (other tests may have added their own to the server).
    builtin = ", ".join(f".usecase-card[data-id='{i}']" for i in builtin_use_cases())
    await expect(page.locator(builtin)).to_have_count(len(builtin_use_cases()))
    await screenshot(page, "use-cases-ja-1280")
    await page.locator(".usecase-card[data-id='summarize'] a").click()
    await expect(page.locator("h1")).to_have_text("要約")

    # Empty: the page says which field, and puts the focus there.
    await page.click("#usecase-run")
    await expect(page.locator("#uc-text-error")).to_be_visible()
    await expect(page.locator("#uc-text")).to_be_focused()

    live.script = Script(content=("・年末年始は", "窓口を休みます。"))
    await page.fill("#uc-text", "12月29日から1月3日まで、市役所の窓口はお休みします。")
    await page.select_option("#uc-format", "prose")
    await page.click("#usecase-run")
    answer = page.locator(".message.assistant")
    await expect(answer).to_have_attribute("data-status", "complete")
    await expect(answer.locator(".answer")).to_have_text("・年末年始は窓口を休みます。")
    sent = live.upstream.requests[-1].body
    assert sent is not None
    prompt = sent["messages"][-1]["content"]
    assert "形式: 段落の文章。" in prompt and prompt.endswith("お休みします。")
    await screenshot(page, "use-case-summarize-ja-1280")

    await page.click("#usecase-continue-link")
    await page.wait_for_url("**/?c=*")
    await expect(page.locator("li.conversation-item.active .conversation-title")).to_contain_text(
        "要約: 12月29日から"
    )
    await expect(page.locator(".message.assistant .answer")).to_have_text(
        "・年末年始は窓口を休みます。"
    )


@pytest.mark.asyncio(loop_scope="session")
async def test_an_admin_adds_hides_and_exports_use_cases(browser: Browser, live: Live) -> None:
    admin = await live.new_user(Role.ADMIN)
    page = await signed_in_page(browser, live, admin, "/admin/use-cases")
    try:
        builtin = ", ".join(f"tr.usecase-row[data-id='{i}']" for i in builtin_use_cases())
        await expect(page.locator("#usecase-table").locator(builtin)).to_have_count(
            len(builtin_use_cases())
        )
        await page.click("#usecase-new")
        await expect(page.locator("#usecase-definition")).to_be_focused()
        definition = orjson.loads(await page.input_value("#usecase-definition"))
        ident = f"uc_{uuid.uuid4().hex[:6]}"
        definition.update(id=ident, title_ja="窓口案内文", prompt="{{ missing }}")
        await page.fill("#usecase-definition", orjson.dumps(definition).decode())
        await page.click("#usecase-save")
        await expect(page.locator("#usecase-editor-error")).to_contain_text("missing")

        definition["prompt"] = "次の用件の案内文を書いてください。\n{{ text }}"
        await page.fill("#usecase-definition", orjson.dumps(definition).decode())
        await page.click("#usecase-save")
        await expect(page.locator("#usecase-status")).to_contain_text("窓口案内文")
        row = page.locator(f"#usecase-table tr.usecase-row[data-id='{ident}']")
        await expect(row.locator(".usecase-kind")).to_have_text("独自")
        await screenshot(page, "admin-use-cases-ja-1280")

        await row.locator("button.usecase-hide").click()
        await expect(row.locator(".usecase-state")).to_have_text("非表示")
        await page.goto(live.base_url + "/use-cases")
        await expect(page.locator(f".usecase-card[data-id='{ident}']")).to_have_count(0)

        await page.goto(live.base_url + "/admin/use-cases")
        async with page.expect_download() as download_info:
            await page.click("#usecase-export")
        download = await download_info.value
        exported = orjson.loads(await asyncio.to_thread((await download.path()).read_bytes))
        assert ident in {u["id"] for u in exported["use_cases"]}

        # The exported file goes back in through the import button, edited on the way.
        mine = next(u for u in exported["use_cases"] if u["id"] == ident)
        mine.update(title_ja="窓口案内文（改訂）", hidden=False)
        payload: FilePayload = {
            "name": "use-cases.json",
            "mimeType": "application/json",
            "buffer": orjson.dumps({"use_cases": [mine]}),
        }
        await page.set_input_files("#usecase-import", files=[payload])
        await expect(page.locator("#usecase-status")).to_contain_text("1 件")
        await expect(row.locator(".usecase-title")).to_have_text("窓口案内文（改訂）")
        await expect(row.locator(".usecase-state")).to_have_text("表示中")
        broken: FilePayload = {"name": "x.json", "mimeType": "application/json", "buffer": b"{"}
        await page.set_input_files("#usecase-import", files=[broken])
        await expect(page.locator("#usecase-error")).to_contain_text("JSON として読めません")
        assert page.errors == []  # type: ignore[attr-defined]
    finally:
        await page.context.close()
