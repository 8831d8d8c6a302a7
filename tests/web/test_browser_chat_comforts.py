"""Chat comforts in a real headless Chromium: search the conversation list, regenerate the
last answer, copy an answer with its AI生成 label, and confirm that an answer was reviewed
before it leaves the organisation."""

from __future__ import annotations

import re
import uuid
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from playwright.async_api import Browser, FilePayload, Page, expect

from tests.support.browser import sign_in
from tests.support.fake_script import Script
from tests.web.conftest import MODEL, PASSWORD, Live

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]


@pytest_asyncio.fixture(loop_scope="session")
async def page(browser: Browser, live: Live) -> AsyncIterator[Page]:
    context = await browser.new_context(
        locale="ja-JP", permissions=["clipboard-read", "clipboard-write"]
    )
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    await sign_in(page, live.base_url, await live.new_user(), PASSWORD)
    await expect(page.locator("#composer-input")).to_be_visible()
    await expect(page.locator("#send")).to_be_enabled()  # the page's script is bound
    yield page
    await context.close()
    assert errors == []


async def send(page: Page, text: str) -> None:
    await page.fill("#composer-input", text)
    await page.click("#send")
    await expect(page.locator(".message.assistant").last).to_have_attribute(
        "data-status", "complete"
    )


async def test_search_regenerate_and_copy(live: Live, page: Page) -> None:
    word = uuid.uuid4().hex[:6]
    live.script = Script(content=("最初の", "答え"))
    await send(page, f"公用車 {word}")
    await page.click("#new-conversation")
    await send(page, "別の話題")

    await page.fill("#conversation-search", word)
    await expect(page.locator("#conversation-list .conversation-item")).to_have_count(1)
    await expect(page.locator(".conversation-title")).to_contain_text(word)
    await page.fill("#conversation-search", "存在しない言葉")
    await expect(page.locator("#conversation-no-match")).to_be_visible()
    await page.press("#conversation-search", "Escape")
    await expect(page.locator("#conversation-list .conversation-item")).to_have_count(2)

    # Only the last answer offers regeneration; the new answer takes the old one's place.
    await send(page, "二つ目の質問")
    answers = page.locator(".message.assistant")
    await expect(answers.nth(0).locator(".regenerate-answer")).to_be_hidden()
    live.script = Script(content=("作り直した", "答え"))
    await answers.last.locator(".regenerate-answer").click()
    await expect(answers).to_have_count(2)
    await expect(answers.last).to_have_attribute("data-status", "complete")
    await expect(answers.last.locator(".answer")).to_have_text("作り直した答え")
    await page.reload()
    await expect(page.locator(".message.assistant .answer").last).to_have_text("作り直した答え")
    await expect(page.locator(".message.user")).to_have_count(2)

    await page.locator(".message.assistant").last.locator(".copy-answer").click()
    copied = await page.evaluate("navigator.clipboard.readText()")
    assert copied.startswith("作り直した答え\n\n【AI生成】")
    assert MODEL in copied


async def test_a_plain_chat_answer_can_be_confirmed_as_reviewed(live: Live, page: Page) -> None:
    # Staff draft outside-bound text in the plain chat too: any complete answer offers the
    # confirmation, without the emphasis of an answer written to leave.
    live.script = Script(content=("住民の方への回答案です",))
    await page.click("#new-conversation")
    await send(page, "住民からの問い合わせへの回答を書いて")
    answer = page.locator(".message.assistant").last
    review = answer.locator(".review-answer")
    await expect(review).to_be_visible()
    await expect(review).not_to_have_class(re.compile("review-needed"))
    await review.click()
    await page.click("#confirm-cancel")
    await expect(answer.locator(".reviewed-by")).to_be_hidden()
    await review.click()
    await page.click("#confirm-ok")
    await expect(answer.locator(".reviewed-by")).to_contain_text("確認済み: u-")
    await expect(review).to_be_hidden()
    await page.reload()
    await expect(page.locator(".message.assistant .reviewed-by").last).to_contain_text("確認済み")


async def test_an_outside_use_answer_is_confirmed_as_reviewed(live: Live, page: Page) -> None:
    live.script = Script(content=("件名: 打合せ日程の変更",))
    await page.goto(live.base_url + "/use-cases/email")
    await expect(page.locator("#usecase-outside-notice")).to_be_visible()
    await page.fill("#uc-purpose", "打合せを10日に変更したい")
    await page.click("#usecase-run")
    answer = page.locator(".message.assistant")
    await expect(answer).to_have_attribute("data-status", "complete")
    await expect(answer.locator(".review-answer")).to_have_class(re.compile("review-needed"))
    await answer.locator(".review-answer").click()
    await page.click("#confirm-ok")
    await expect(answer.locator(".reviewed-by")).to_contain_text("確認済み: u-")
    await expect(answer.locator(".review-answer")).to_be_hidden()

    # In the chat page too: the conversation remembers who reviewed it.
    await page.click("#usecase-continue-link")
    stored = page.locator(".message.assistant").last
    await expect(stored.locator(".reviewed-by")).to_contain_text("確認済み: u-")
    await expect(stored.locator(".review-answer")).to_be_hidden()


async def test_a_file_attached_in_the_composer_reaches_the_model(live: Live, page: Page) -> None:
    live.script = Script(content=("3日前までです",))
    await page.click("#new-conversation")
    rule = "第3条 公用車の予約は、使用日の3日前までに申請する。"
    file: FilePayload = {"name": "規程.txt", "mimeType": "text/plain", "buffer": rule.encode()}
    await page.set_input_files("#attach-input", files=[file])
    chip = page.locator("#attachment-list li.attachment-chip")
    await expect(chip).to_have_attribute("data-state", "ready")
    await expect(chip.locator(".attachment-info")).to_contain_text("1ページ")
    await send(page, "予約の期限は？")
    await expect(page.locator("#attachment-list")).to_be_hidden()
    question = page.locator(".message.user").last
    await expect(question.locator(".message-attachments li")).to_have_text(["規程.txt"])
    sent = [r for r in live.upstream.requests if r.method == "POST"][-1].body
    assert sent is not None and any(rule in m["content"] for m in sent["messages"])
    await page.reload()
    await expect(page.locator(".message.user .message-attachments li").last).to_have_text(
        "規程.txt"
    )
