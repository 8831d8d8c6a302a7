"""The chat page with the keyboard only, in a real headless Chromium: the skip link comes
first and lands in the main area; Tab reaches every control in a sensible order, each with a
visible focus ring; a message is written and sent (Ctrl+Enter) and a streaming answer stopped
(Escape) without the mouse; a conversation is renamed and the delete dialog opened and
dismissed from the keyboard, with the focus kept where the person is."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from playwright.async_api import Browser, Page, expect

from tests.support.fake_script import Script
from tests.web.conftest import PASSWORD, Live

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]

FOCUSED = """() => {
  const el = document.activeElement;
  const style = getComputedStyle(el);
  const shows = (s) => (s.outlineStyle !== "none" && parseFloat(s.outlineWidth) >= 2)
    || (s.boxShadow && s.boxShadow !== "none");
  // A control drawn as part of a larger box (the composer) may show its focus on that box.
  const box_ = el.closest(".composer");
  const ring = shows(style) || (box_ !== null && shows(getComputedStyle(box_)));
  const box = el.getBoundingClientRect();
  return { id: el.id, cls: el.className, tag: el.tagName, ring,
           onscreen: box.bottom > 0 && box.top < innerHeight
                     && box.right > 0 && box.left < innerWidth };
}"""


@pytest_asyncio.fixture(loop_scope="session")
async def page(browser: Browser, live: Live) -> AsyncIterator[Page]:
    context = await browser.new_context(locale="ja-JP", viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    await page.goto(live.base_url + "/login")
    # Signing in is keyboard-only too.
    await page.keyboard.press("Tab")
    await page.keyboard.press("Tab")
    focused = await page.evaluate(FOCUSED)
    while focused["id"] != "login-username":
        await page.keyboard.press("Tab")
        focused = await page.evaluate(FOCUSED)
    await page.keyboard.type(await live.new_user())
    await page.keyboard.press("Tab")
    await page.keyboard.type(PASSWORD)
    await page.keyboard.press("Enter")
    await expect(page.locator("#composer-input")).to_be_visible()
    await expect(page.locator("#send")).to_be_enabled()  # the page's script is bound
    yield page
    await context.close()


async def tab_to(page: Page, selector: str, limit: int = 60) -> list[dict[str, Any]]:
    """Tab until ``selector`` has the focus; every stop on the way, as FOCUSED sees it."""
    path: list[dict[str, Any]] = []
    for _ in range(limit):
        await page.keyboard.press("Tab")
        path.append(await page.evaluate(FOCUSED))
        if await page.evaluate(f"document.activeElement.matches({selector!r})"):
            return path
    raise AssertionError(f"{selector} not reached by Tab: {[p['id'] or p['cls'] for p in path]}")


FROM_THE_TOP = """() => {
  // Where Tab starts on a page nobody has touched yet: the composer's autofocus aside.
  document.body.tabIndex = -1;
  document.body.focus();
  document.body.removeAttribute("tabindex");
}"""


async def test_the_chat_page_works_from_the_keyboard(live: Live, page: Page) -> None:
    await page.evaluate(FROM_THE_TOP)
    await page.keyboard.press("Tab")
    first = await page.evaluate(FOCUSED)
    assert "skip-link" in first["cls"] and first["onscreen"] and first["ring"]
    await page.keyboard.press("Enter")
    assert (await page.evaluate(FOCUSED))["id"] == "main"

    path = await tab_to(page, "#composer-input")
    ids = [p["id"] for p in path]
    # The way there passes the sidebar and the turn's controls, in reading order.
    assert ids.index("new-conversation") < ids.index("classification-select")
    assert ids.index("classification-select") < ids.index("model-select") < len(ids) - 1
    assert all(p["ring"] for p in path), [p for p in path if not p["ring"]]

    live.script = Script(content=("お", "答え", "です"))
    await page.keyboard.type("キーボードだけで送ります")
    await page.keyboard.press("Control+Enter")
    answer = page.locator(".message.assistant").last
    await expect(answer).to_have_attribute("data-status", "complete")
    await expect(answer.locator(".answer")).to_have_text("お答えです")
    assert (await page.evaluate(FOCUSED))["id"] == "composer-input"

    # A slow answer is stopped with Escape from the composer.
    live.script = Script(content=tuple(f"{i} " for i in range(200)), delay=0.05)
    await page.keyboard.type("長い答えを")
    await page.keyboard.press("Control+Enter")
    streaming = page.locator(".message.assistant").last
    await expect(streaming.locator(".answer")).not_to_be_empty()
    await page.keyboard.press("Escape")
    await expect(streaming).to_have_attribute("data-status", "stopped")

    # The answer's actions are reachable: Shift+Tab back from the composer finds them.
    for _ in range(12):
        await page.keyboard.press("Shift+Tab")
        if await page.evaluate("document.activeElement.matches('.message.assistant button')"):
            break
    assert await page.evaluate("document.activeElement.closest('.message.assistant') !== null")


async def test_rename_and_delete_dialog_from_the_keyboard(live: Live, page: Page) -> None:
    live.script = Script(content=("はい",))
    await page.fill("#composer-input", "名前を変える会話")
    await page.keyboard.press("Control+Enter")
    await expect(page.locator(".message.assistant").last).to_have_attribute(
        "data-status", "complete"
    )
    await page.evaluate(FROM_THE_TOP)
    await tab_to(page, "li.conversation-item.active .conversation-rename")
    await page.keyboard.press("Enter")
    rename = page.locator("input.conversation-rename-input")
    await expect(rename).to_be_focused()
    await page.keyboard.press("Control+A")
    await page.keyboard.type("鍵盤で命名")
    await page.keyboard.press("Enter")
    title = page.locator("li.conversation-item.active .conversation-title")
    await expect(title).to_have_text("鍵盤で命名")
    # The focus stays on the item's rename button, not lost to the page.
    assert await page.evaluate("document.activeElement.matches('.conversation-rename')")

    await page.keyboard.press("Tab")
    assert await page.evaluate("document.activeElement.matches('.conversation-delete')")
    await page.keyboard.press("Enter")
    dialog = page.locator("#confirm-dialog")
    await expect(dialog).to_be_visible()
    await expect(page.locator("#confirm-cancel")).to_be_focused()
    await page.keyboard.press("Escape")
    await expect(dialog).to_be_hidden()
    await expect(title).to_have_text("鍵盤で命名")  # dismissed: nothing deleted
