"""The workspace shows reasoning as policy says, in a real headless Chromium (Debian's) driven by
Playwright against the live app and its scripted engine: hidden shows only how long and how much
the model thought, summary shows a summariser's text, raw the text itself; each survives a
reload through the history."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from playwright.async_api import Browser, Locator, Page, expect

from mamori.domain.reasoning import ReasoningDisplay
from tests.support.browser import sign_in
from tests.support.fake_upstream import Script
from tests.web.conftest import MODEL, PASSWORD, Live
from tests.web.test_reasoning_display import (
    REASONING,
    SUMMARY,
    answer_with_summariser,
    member_of,
)

pytestmark = [pytest.mark.browser]
SECRET = "".join(REASONING)
ANSWER = "東京です"
# "4.1秒間考えました（約3トークン）": the seconds vary, the token count is the scripted chunks'.
THOUGHT = re.compile(rf"^\d+\.\d秒間考えました（約{len(REASONING)}トークン）$")
RECORD_STATUS = """() => {
  window.statusTexts = [];
  new MutationObserver((records) => {
    for (const r of records) {
      if (!r.target.classList || !r.target.classList.contains("reasoning-status")) continue;
      for (const node of r.addedNodes) window.statusTexts.push(node.textContent);
    }
  }).observe(document.getElementById("messages"), { childList: true, subtree: true });
}"""
# Paced, so the answer streams as an engine's would and the page sees the turn unfold.
DELAY = 0.02


@pytest_asyncio.fixture(loop_scope="session")
async def page(browser: Browser) -> AsyncIterator[Page]:
    context = await browser.new_context(locale="ja-JP")
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    yield page
    await context.close()
    assert errors == [], f"JavaScript errors on the page: {errors}"


async def send(live: Live, page: Page, display: ReasoningDisplay) -> Locator:
    """Signs a new member of a group with ``display`` in and asks MODEL; the answer to come.
    Every text the thinking status line takes is kept in ``window.statusTexts``."""
    username = await live.new_user()
    await member_of(live, username, reasoning_display=display)
    await sign_in(page, live.base_url, username, PASSWORD)
    await expect(page.locator("#composer-input")).to_be_visible()
    await page.select_option("#model-select", MODEL)
    # Progress can change several times between two polls of the page: a mutation observer
    # sees each text as it is set, so the in-progress state is checked without racing it.
    await page.evaluate(RECORD_STATUS)
    await page.fill("#composer-input", "日本の首都は？")
    await page.click("#send")
    return page.locator(".message.assistant").last


async def ask(live: Live, page: Page, display: ReasoningDisplay) -> Locator:
    """As ``send``, and waits for the whole answer."""
    answer = await send(live, page, display)
    await expect(answer).to_have_attribute("data-status", "complete")
    await expect(answer.locator(".answer")).to_have_text(ANSWER)
    return answer


async def reload(page: Page) -> Locator:
    await expect(page).to_have_url(re.compile(r"\?c=\w+"))
    await page.reload()
    answer = page.locator(".message.assistant").last
    await expect(answer.locator(".answer")).to_have_text(ANSWER)
    return answer


async def assert_nowhere(page: Page, text: str) -> None:
    assert text not in await page.content()
    assert text not in await page.locator("body").inner_text()


async def test_hidden_shows_how_long_it_thought_never_what(live: Live, page: Page) -> None:
    live.script = Script(reasoning=REASONING, content=("東京", "です"), delay=DELAY)
    answer = await ask(live, page, ReasoningDisplay.HIDDEN)
    status = answer.locator(".reasoning-status")
    await expect(status).to_be_visible()
    await expect(status).to_have_text(THOUGHT)
    await expect(answer.locator("details.reasoning")).to_be_hidden()
    await assert_nowhere(page, SECRET)
    seen = await page.evaluate("window.statusTexts")
    assert re.fullmatch(r"考えています… \d+\.\d秒・約\d+トークン", seen[0]), seen
    assert THOUGHT.fullmatch(seen[-1]), seen

    answer = await reload(page)
    status = answer.locator(".reasoning-status")
    await expect(status).to_be_visible()
    await expect(status).to_have_text(THOUGHT)
    await expect(answer.locator("details.reasoning")).to_be_hidden()
    await assert_nowhere(page, SECRET)


async def test_stopped_while_thinking_is_no_longer_thinking(live: Live, page: Page) -> None:
    # Long enough to still be thinking when a loaded machine gets round to showing it.
    thoughts = tuple(f"思考{i}" for i in range(200))
    live.script = Script(reasoning=thoughts, content=("東京", "です"), delay=0.05)
    answer = await send(live, page, ReasoningDisplay.HIDDEN)
    status = answer.locator(".reasoning-status")
    await expect(status).to_have_text(re.compile(r"^考えています…"), timeout=15_000)
    await page.click("#stop")
    await expect(answer).to_have_attribute("data-status", "stopped")
    # The server sends no final progress to a client that hung up: the page settles it itself.
    await expect(status).to_have_text(re.compile(r"^\d+\.\d秒間考えました（約\d+トークン）$"))
    await assert_nowhere(page, "思考")


async def test_summary_shows_the_summary_in_place_of_the_reasoning(live: Live, page: Page) -> None:
    live.script_by_request = answer_with_summariser

    async def shows_the_summary(answer: Locator) -> None:
        details = answer.locator("details.reasoning")
        await expect(details).to_be_visible()
        await expect(details.locator(".reasoning-label")).to_have_text("推論の要約")
        await expect(details.locator(".reasoning-count")).to_be_empty()
        await expect(details.locator(".reasoning-body")).to_have_text(SUMMARY)
        # How long it thought goes with the summary, as it does with nothing at all.
        await expect(answer.locator(".reasoning-status")).to_have_text(THOUGHT)
        await assert_nowhere(page, SECRET)

    await shows_the_summary(await ask(live, page, ReasoningDisplay.SUMMARY))
    await shows_the_summary(await reload(page))


async def test_raw_shows_the_reasoning_itself(live: Live, page: Page) -> None:
    live.script = Script(reasoning=REASONING, content=("東京", "です"), delay=DELAY)

    async def shows_the_reasoning(answer: Locator) -> None:
        details = answer.locator("details.reasoning")
        await expect(details).to_be_visible()
        await expect(details.locator(".reasoning-label")).to_have_text("推論過程")
        await expect(details.locator(".reasoning-count")).to_have_text(f"({len(SECRET)}文字)")
        await details.locator("summary").click()
        await expect(details.locator(".reasoning-body")).to_have_text(SECRET)
        await expect(answer.locator(".reasoning-status")).to_be_hidden()

    await shows_the_reasoning(await ask(live, page, ReasoningDisplay.RAW))
    # Not even for a moment while it streamed.
    assert await page.evaluate("window.statusTexts") == []
    await shows_the_reasoning(await reload(page))
