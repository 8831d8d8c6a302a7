"""The auditors' page and the usage page in a real headless Chromium (Debian's): the search
results, a record's detail, the chain's state, and the usage chart drawn as SVG bars.

The app is this module's own, on SQLite; storage is tested on both backends elsewhere."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import pytest
import pytest_asyncio
from playwright.async_api import Browser, Page, expect

from mamori.app import create_app
from mamori.domain.principal import Role
from tests.support.browser import sign_in
from tests.support.fake_upstream import FakeUpstream, Script
from tests.web.conftest import MODEL, PASSWORD, Live, isolated_settings, serve

pytestmark = [pytest.mark.browser]


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def live(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Live]:
    from mamori.settings import EndpointSettings

    upstream = FakeUpstream(script=Script(content=("はい",)), models=(MODEL,))
    await upstream.start()
    data_dir = tmp_path_factory.mktemp("audit-ui")
    settings = isolated_settings(
        data_dir,
        endpoints=[
            EndpointSettings(name="gpu1", url=upstream.base_url, residency="onprem", models=[MODEL])
        ],
    )
    app = create_app(settings)
    server, task, port = await serve(app)
    live = Live(f"http://127.0.0.1:{port}", upstream, app.state.services)
    registry = live.services.registry
    await upstream.wait_for(lambda: all(s.last_probe for s in registry.status()), timeout=5)
    yield live
    server.should_exit = True
    await task
    await upstream.stop()


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def auditor(live: Live) -> str:
    """An auditor who also chatted twice, so there are records and usage to see."""
    username = await live.new_user(Role.AUDITOR)
    await live.chat_turns(username, "こんにちは", "ありがとう")
    return username


@pytest_asyncio.fixture(loop_scope="session")
async def page(browser: Browser, live: Live, auditor: str) -> AsyncIterator[Page]:
    context = await browser.new_context(locale="ja-JP")
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    await sign_in(page, live.base_url, auditor, PASSWORD, "/audit")
    await expect(page.locator("#audit-records")).to_be_visible()
    yield page
    await context.close()
    assert errors == [], f"JavaScript errors on the page: {errors}"


async def test_auditor_searches_opens_a_record_and_sees_the_chain(
    live: Live, page: Page, auditor: str
) -> None:
    await expect(page.locator("#audit-link")).to_be_visible()
    rows = page.locator("#audit-records tbody tr[data-seq]")
    await expect(rows).to_have_count(2)
    await expect(rows.first).to_contain_text("機密性1")  # a label, not a number
    newest = (await live.audit_rows(user_id=(await live.user_row(auditor)).id))[0]
    local = newest.created_at.astimezone(live.services.settings.zone)  # not the browser's UTC
    await expect(rows.first).to_contain_text(
        f"{local.year}/{local.month}/{local.day} {local.hour}:{local.minute:02d}"
    )
    await expect(rows.first).to_contain_text("正常")
    await page.fill("#audit-user", "nobody-at-all")
    await page.click("#audit-search-submit")
    await expect(page.locator("#audit-records tbody tr.audit-empty")).to_have_count(1)
    await page.fill("#audit-user", auditor)
    await page.click("#audit-search-submit")
    await expect(rows).to_have_count(2)
    await expect(rows.first).to_contain_text(auditor)

    detail = page.locator("#audit-detail")
    await expect(detail).to_be_hidden()
    await rows.last.click()  # the older turn: こんにちは
    await expect(detail).to_be_visible()
    await expect(detail.locator("#audit-detail-fields")).to_contain_text("record_hash")
    await page.click("#audit-show-content")
    await expect(page.locator("#audit-content pre.audit-prompt")).to_contain_text("こんにちは")
    await expect(page.locator("#audit-content pre.audit-answer")).to_have_text("はい")

    chain = page.locator("#audit-chain")
    await expect(chain).to_have_attribute("data-ok", "unknown")
    await page.click("#audit-verify")
    await expect(chain).to_have_attribute("data-ok", "true")
    await expect(chain).to_contain_text("改ざんは見つかりませんでした")

    async with page.expect_download() as download_info:
        await page.click("#audit-export-submit")
    download = await download_info.value
    assert download.suggested_filename.startswith("mamori-audit-")
    assert download.suggested_filename.endswith(".jsonl")


async def test_usage_page_draws_bars(live: Live, page: Page) -> None:
    await page.click("#usage-link")
    bars = page.locator("#usage-chart svg rect.bar")
    await expect(bars.first).to_be_attached()
    assert await bars.count() >= 28  # one per day of the month
    assert await page.locator("#usage-chart svg rect.bar:not(.bar-empty)").count() == 1
    await expect(page.locator("#usage-total")).to_contain_text("2 リクエスト")
    await expect(page.locator("#usage-users tbody tr")).to_have_count(1)
    await expect(page.locator("#usage-csv")).to_have_attribute(
        "href", re.compile(r"^/api/usage/report\.csv\?month=\d{4}-\d{2}$")
    )
