"""A page audit of every main page, in Japanese and in English, in a real headless Chromium.
It fails on:
- any request to a host other than mamori's own (fonts, scripts, images, analytics…);
- any untranslated string: a catalog key shown instead of its text, or a text that is mostly
  Japanese on an English page, outside an element marked lang="ja";
- any visible control without an accessible name (a label, aria-label(ledby) or its text);
- any text whose contrast with its background is under WCAG AA (4.5:1; 3:1 for large text).
Each page is also saved as a screenshot (tests/support/browser.SCREENSHOTS).
"""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import pytest_asyncio
from playwright.async_api import Browser, Page

from mamori.app import create_app
from mamori.domain.classification import Classification
from mamori.domain.principal import Role
from mamori.settings import EndpointSettings
from mamori.store.repos.knowledge_bases import create_kb
from mamori.web import i18n
from tests.support.browser import screenshot
from tests.support.fake_script import Script
from tests.support.fake_upstream import FakeUpstream
from tests.web.conftest import MODEL, PASSWORD, Live, isolated_settings, serve

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]

PAGES = (
    ("chat", "/"),
    ("use-cases", "/use-cases"),
    ("use-case-summarize", "/use-cases/summarize"),
    ("use-case-council", "/use-cases/council_answer"),
    ("knowledge", "/knowledge"),
    ("usage", "/usage"),
    ("audit", "/audit"),
    ("admin", "/admin"),
    ("admin-users", "/admin/users"),
    ("admin-keys", "/admin/keys"),
    ("admin-endpoints", "/admin/endpoints"),
    ("admin-use-cases", "/admin/use-cases"),
    ("admin-policy", "/admin/policy"),
)
WIDTHS = {"desktop": 1280, "tablet": 768}

# The checks themselves, in the page's own language; the file's first line is its comment.
AUDIT_JS = "".join(
    Path(__file__).with_name("page_audit.js").read_text(encoding="utf-8").splitlines(True)[1:]
)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def live(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Live]:
    """A server of this module's own, on SQLite: the audit is about pages, not storage, so
    it runs once rather than once per database."""
    upstream = FakeUpstream(script=Script(content=("fine",)), models=(MODEL,))
    await upstream.start()
    settings = isolated_settings(
        tmp_path_factory.mktemp("page-audit"),
        endpoints=[
            EndpointSettings(name="gpu1", url=upstream.base_url, residency="onprem", models=[MODEL])
        ],
    )
    app = create_app(settings)
    server, task, port = await serve(app)
    yield Live(f"http://127.0.0.1:{port}", upstream, app.state.services)
    server.should_exit = True
    await task
    await upstream.stop()


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def admin(live: Live) -> AsyncIterator[str]:
    """An administrator and auditor with a group, a knowledge base and a conversation, so no
    page is audited empty. Names are ASCII: what the test made is not what is audited."""
    username = await live.new_user(Role.ADMIN, Role.AUDITOR)
    accounts = live.services.accounts
    group = await accounts.create_group(f"audit-{uuid.uuid4().hex[:6]}")
    await accounts.set_membership(group.name, username, member=True)
    await live.services.db.write(
        lambda c: create_kb(
            c,
            name=f"rules-{uuid.uuid4().hex[:6]}",
            owner_group_id=group.id,
            classification=Classification.C1,
        )
    )
    await live.chat_turns(username, "hello")
    yield username


async def audited(browser: Browser, live: Live, username: str, lang: str, width: int) -> Page:
    context = await browser.new_context(
        locale="ja-JP" if lang == "ja" else "en-US", viewport={"width": width, "height": 900}
    )
    page = await context.new_page()
    await page.goto(f"{live.base_url}/lang/{lang}?next=/login")
    await page.fill("#login-username", username)
    await page.fill("#login-password", PASSWORD)
    await page.click("#login-submit")
    await page.wait_for_url(f"{live.base_url}/")
    return page


def watch(page: Page, own: str, foreign: list[str], errors: list[str]) -> None:
    def request(r: Any) -> None:
        parts = urlsplit(r.url)
        if parts.scheme not in ("data", "blob") and parts.netloc != own:
            foreign.append(r.url)

    page.on("request", request)
    page.on("pageerror", lambda exc: errors.append(str(exc)))


@pytest.mark.parametrize("lang", ["ja", "en"])
async def test_every_main_page_passes_the_audit(
    browser: Browser, live: Live, admin: str, lang: str
) -> None:
    keys = set(i18n.catalog("ja"))
    own = urlsplit(live.base_url).netloc
    problems: list[str] = []
    for width_name, width in WIDTHS.items():
        page = await audited(browser, live, admin, lang, width)
        foreign: list[str] = []
        errors: list[str] = []
        watch(page, own, foreign, errors)
        for name, path in PAGES:
            await page.goto(live.base_url + path)
            await page.wait_for_load_state("networkidle")
            report: dict[str, Any] = await page.evaluate(AUDIT_JS)
            shown_keys = sorted(k for k in keys if k in report["text"])
            where = f"{name} [{lang}, {width_name}]"
            for label, found in (
                ("catalog keys shown", shown_keys),
                ("unlabelled controls", report["unlabelled"]),
                ("low contrast", report["lowContrast"]),
                ("Japanese on an English page", report["japanese"] if lang == "en" else []),
                ("script errors", errors),
            ):
                if found:
                    problems.append(f"{where}: {label}: {found[:5]}")
            if report["overflow"]:
                problems.append(f"{where}: wider than the window")
            errors.clear()
            await screenshot(page, f"{name}-{lang}-{width_name}")
        if foreign:
            problems.append(f"[{lang}, {width_name}] requests to other hosts: {foreign[:5]}")
        await page.context.close()
    assert problems == [], "\n".join(problems)


async def test_the_audit_sees_each_kind_of_problem(browser: Browser) -> None:
    """The audit itself, on a page made to fail each check, so a check that has gone blind
    is caught."""
    context = await browser.new_context(viewport={"width": 1280, "height": 900})
    page = await context.new_page()
    await page.set_content(
        """<html lang="en"><body style="background:#fff">
        <input type="text" id="nameless">
        <p style="color:#bbb">faint text</p>
        <p>chat.send</p>
        <p>要約する文章を入力してください</p>
        <p>Confidential data (機密性2) stays here</p>
        <span lang="ja">日本語の名前</span>
        <div style="width:3000px">wide</div>
        </body></html>"""
    )
    report = await page.evaluate(AUDIT_JS)
    await context.close()
    assert [u.split(" ")[0] for u in report["unlabelled"]] == ["<input"]
    assert any("faint text" in c for c in report["lowContrast"])
    assert "chat.send" in report["text"]
    assert report["japanese"] == ["要約する文章を入力してください"]
    assert report["overflow"] is True


@pytest.mark.parametrize("lang", ["ja", "en"])
async def test_the_sign_in_page_passes_the_audit(browser: Browser, live: Live, lang: str) -> None:
    context = await browser.new_context(viewport={"width": 768, "height": 900})
    page = await context.new_page()
    foreign: list[str] = []
    errors: list[str] = []
    watch(page, urlsplit(live.base_url).netloc, foreign, errors)
    await page.goto(f"{live.base_url}/lang/{lang}?next=/login")
    await page.wait_for_load_state("networkidle")
    report: dict[str, Any] = await page.evaluate(AUDIT_JS)
    await screenshot(page, f"login-{lang}-tablet")
    await context.close()
    shown_keys = sorted(k for k in i18n.catalog("ja") if k in report["text"])
    assert (foreign, errors, shown_keys, report["unlabelled"], report["lowContrast"]) == (
        [],
        [],
        [],
        [],
        [],
    )
    assert report["japanese"] == [] or lang == "ja"
    assert report["overflow"] is False
