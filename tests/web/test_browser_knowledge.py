"""Knowledge bases in a real headless Chromium (Debian's, driven by Playwright): a member of
the owner group uploads a PDF on /knowledge and watches it become ready, chooses the base for
a conversation, asks about the PDF's second page, and gets an answer whose [1] opens the
source: the document's title, its page and the passage. Reopened later, the conversation
still shows its sources.

The engine is the shared scripted one: what is under test is that the passage reaches the
model and that the page turns the model's [1] into a working citation, which needs an
answer that reliably contains "[1]".
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import orjson
import pytest
import pytest_asyncio
from playwright.async_api import Browser, FilePayload, Page, expect

from mamori.domain.classification import Classification
from mamori.store.repos.knowledge_bases import create_kb
from tests.support.browser import sign_in
from tests.support.documents import build_pdf
from tests.support.fake_upstream import Script
from tests.web.conftest import PASSWORD, Live

pytestmark = [pytest.mark.browser]

PAGE_ONE = "第1章 総則\nこの手引は、市民課の窓口業務について定める。"
PAGE_TWO = (
    "第2章 受付時間\n住民票の写しの交付は、平日の午前8時30分から午後5時15分まで受け付ける。"
    "土曜日と日曜日は受け付けない。"
)


@pytest_asyncio.fixture(loop_scope="session")
async def member(live: Live) -> AsyncIterator[tuple[str, str]]:
    """A user in the group that owns a fresh knowledge base: (username, knowledge base name)."""
    username = await live.new_user()
    accounts = live.services.accounts
    group = await accounts.create_group(f"g-{uuid.uuid4().hex[:8]}")
    await accounts.set_membership(group.name, username, member=True)
    name = f"市民課手引-{uuid.uuid4().hex[:6]}"
    await live.services.db.write(
        lambda c: create_kb(c, name=name, owner_group_id=group.id, classification=Classification.C1)
    )
    yield username, name


@pytest_asyncio.fixture(loop_scope="session")
async def page(browser: Browser, live: Live, member: tuple[str, str]) -> AsyncIterator[Page]:
    context = await browser.new_context(locale="ja-JP")
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    await sign_in(page, live.base_url, member[0], PASSWORD, "/knowledge")
    await expect(page.locator("#kb-list")).to_be_visible()
    yield page
    await context.close()
    assert errors == [], f"JavaScript errors on the page: {errors}"


async def test_upload_a_pdf_ask_about_it_and_open_the_citation(
    live: Live, page: Page, member: tuple[str, str]
) -> None:
    _, kb_name = member
    # Upload, and watch the background ingestion finish.
    await page.locator("a.kb-link", has_text=kb_name).click()
    await expect(page.locator("#kb-title")).to_have_text(kb_name)
    pdf = build_pdf([PAGE_ONE, PAGE_TWO], "窓口業務の手引")
    payload: FilePayload = {"name": "窓口手引.pdf", "mimeType": "application/pdf", "buffer": pdf}
    await page.set_input_files("#kb-files", files=[payload])
    await page.click("#kb-upload")
    await expect(page.locator("li.upload-result")).to_have_attribute("data-outcome", "accepted")
    row = page.locator("#kb-documents tr.doc-row")
    await expect(row).to_have_attribute("data-status", "ready", timeout=20_000)
    await expect(row.locator("td").nth(2)).to_have_text("2")  # pages

    # Choose the base for a new conversation and ask about page 2.
    live.script = Script(
        content=("住民票の写しは平日8時30分から17時15分まで", "交付されます [1]。")
    )
    await page.goto(live.base_url + "/")
    await page.click("#kb-picker-summary")
    await page.locator("label.kb-option-label", has_text=kb_name).locator("input").check()
    await expect(page.locator("#kb-picker-summary")).to_have_text("ナレッジ: 1件")
    await page.fill("#composer-input", "住民票の写しの受付時間を教えてください")
    await page.click("#send")
    answer = page.locator(".message.assistant").last
    await expect(answer).to_have_attribute("data-status", "complete")

    # The passage reached the model, as a document of its own.
    [request] = [r for r in live.upstream.requests if r.method == "POST"][-1:]
    sent = orjson.dumps(request.body).decode()
    assert "午前8時30分から午後5時15分まで" in sent

    # [1] is a button; it opens the source with its title, page and passage.
    ref = answer.locator(".answer button.citation-ref")
    await expect(ref).to_have_text("[1]")
    source = answer.locator("li.citation[data-index='1']")
    await expect(source.locator(".citation-snippet")).not_to_be_visible()
    await ref.click()
    await expect(source.locator("details")).to_have_attribute("open", "")
    await expect(source.locator(".citation-title")).to_contain_text("窓口業務の手引")
    await expect(source.locator(".citation-page")).to_have_text("2ページ")
    await expect(source.locator(".citation-snippet")).to_contain_text("平日の午前8時30分")
    await expect(source.locator(".citation-snippet")).to_be_visible()

    # Reopened, the conversation shows the same sources and keeps its knowledge base.
    await page.reload()
    stored = page.locator(".message.assistant").last
    await expect(stored.locator("li.citation")).to_have_count(1)
    await expect(stored.locator(".citation-page")).to_have_text("2ページ")
    await expect(page.locator("#kb-picker-summary")).to_have_text("ナレッジ: 1件")
