"""Every built-in use case produces an answer from the real embedded engine, driven through
its page in a real headless Chromium: the form is filled in, 実行 is pressed, the answer
streams in and is saved in a conversation of the person's. The model is the tiny demo one, so
what is checked is that the whole path works for each page, not what the answer says."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, Page, expect, sync_playwright

from mamori.usecases.catalog import builtin_use_cases
from tests.e2e.conftest import PASSWORD, Server
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, require_chromium

pytestmark = [pytest.mark.e2e, pytest.mark.browser]

# What a clerk would type into each use case's required fields.
SAMPLES = {
    "text": "年末年始（12月29日から1月3日）は、市役所の窓口業務をお休みします。",
    "transcript": "課長: 来月の説明会は15日に決定。佐藤さんが資料を作成し、10日までに共有する。",
    "question": "防災備蓄の現状と今後の整備方針について伺います。",
    "purpose": "来週の打合せを10日（水）14時に変更したい。",
    "content": "12月28日から1月3日まで窓口を休みます。証明書はコンビニ交付をご利用ください。",
    "inquiry": "住民票の写しを郵送で請求する方法を教えてください。",
}


@pytest.fixture(scope="module")
def workspace(server: Server) -> Iterator[tuple[Page, str]]:
    """A signed-in page of a person whose group owns a knowledge base, and that base's name."""
    require_chromium()
    username = server.new_user()
    group = f"e2e-{uuid.uuid4().hex[:6]}"
    server.cli("groups", "create", group)
    server.cli("groups", "add", group, username)
    server.cli("kb", "create", f"例規集-{group}", "--group", group, "--classification", "機密性1")
    with sync_playwright() as playwright:
        browser: Browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(locale="ja-JP")
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(server.url + "/login?next=/use-cases")
        page.fill("#login-username", username)
        page.fill("#login-password", PASSWORD)
        page.click("#login-submit")
        expect(page.locator(".usecase-card")).to_have_count(len(builtin_use_cases()))
        yield page, f"例規集-{group}"
        browser.close()
        assert errors == [], errors


@pytest.mark.parametrize("use_case_id", sorted(builtin_use_cases()))
def test_each_use_case_page_produces_an_answer(
    server: Server, workspace: tuple[Page, str], use_case_id: str
) -> None:
    page, kb_name = workspace
    use_case = builtin_use_cases()[use_case_id]
    page.goto(f"{server.url}/use-cases/{use_case_id}")
    for field in use_case.fields:
        if field.required:
            page.fill(f"#uc-{field.name}", SAMPLES[field.name])
    if use_case.knowledge != "none":
        page.click("#kb-picker-summary")
        page.locator("label.kb-option-label", has_text=kb_name).locator("input").check()
    answer = page.locator(".message.assistant")
    for attempt in range(3):
        page.click("#usecase-run")
        expect(page.locator("#usecase-run")).to_be_enabled(timeout=90_000)
        if answer.count():
            break
        # The tiny base model now and then ends its turn at once: mamori says so (the
        # engine_no_answer message) and keeps nothing. What is under test is the path.
        expect(page.locator("#chat-alert")).to_contain_text("回答本文を返しませんでした")
        assert attempt < 2, f"{use_case_id}: the embedded model answered nothing three times"
    expect(answer).to_have_attribute("data-status", "complete", timeout=90_000)
    assert answer.locator(".answer").inner_text().strip(), f"{use_case_id}: empty answer"
    expect(page.locator("#usecase-continue-link")).to_have_attribute(
        "href", re.compile(r"^/\?c=[\w-]+$")
    )
