"""Hostile model output never executes, in a real headless Chromium: each payload below is an
engine's whole answer, streamed token by token into the chat page. Nothing may set
``window.__xss``, open a dialog, or leave a script, an event handler or a ``javascript:`` URL in
the DOM. The guard removes HTML from answers before they are sent (and says so where it was);
the page's Markdown renderer and DOMPurify are the second wall. The same payloads as a
conversation title and as the person's own message are inserted as text."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import pytest
import pytest_asyncio
from playwright.async_api import Browser, Dialog, Page, expect

from tests.support.browser import sign_in
from tests.support.fake_script import Script
from tests.web.conftest import PASSWORD, Live

pytestmark = [pytest.mark.browser, pytest.mark.asyncio(loop_scope="session")]

PAYLOADS = (
    "<script>window.__xss = 1</script>",
    '<img src=x onerror="window.__xss = 2">',
    "[open](javascript:window.__xss=3)",
    '<a href="javascript:window.__xss=4">link</a>',
    '<svg onload="window.__xss = 5"></svg>',
    '<iframe src="javascript:window.__xss=6"></iframe>',
    '<details open ontoggle="window.__xss = 7">x</details>',
    "[case](JaVaScRiPt:window.__xss=8)",
    '"><img src=x onerror=window.__xss=9>',
    '**bold** <b onmouseover="window.__xss=10">hover</b>',
    '<a href="data:text/html,<script>window.__xss=11</script>">data</a>',
    "[ref][1]\n\n[1]: javascript:window.__xss=12",
    '<form action="javascript:window.__xss=13"><button>go</button></form>',
    "```html\n<script>window.__xss=14</script>\n```",
    '<math><mi xlink:href="javascript:window.__xss=15">m</mi></math>',
    "<style>body{display:none}</style>visible",
)


def split(text: str, size: int = 3) -> tuple[str, ...]:
    """Tokens of a few characters, so a tag arrives in pieces as it would from a model."""
    return tuple(text[i : i + size] for i in range(0, len(text), size))


@pytest_asyncio.fixture(loop_scope="session")
async def page(browser: Browser, live: Live) -> AsyncIterator[Page]:
    context = await browser.new_context(locale="ja-JP")
    page = await context.new_page()
    dialogs: list[str] = []

    async def dialog(d: Dialog) -> None:
        dialogs.append(d.message)
        await d.dismiss()

    page.on("dialog", dialog)
    await sign_in(page, live.base_url, await live.new_user(), PASSWORD)
    await expect(page.locator("#composer-input")).to_be_visible()
    await expect(page.locator("#send")).to_be_enabled()  # the page's script is bound
    yield page
    assert dialogs == []
    await context.close()


async def dom_report(page: Page) -> dict[str, Any]:
    report: dict[str, Any] = await page.evaluate(
        """() => {
          const bad = [];
          for (const node of document.querySelectorAll("#messages *")) {
            if (["SCRIPT", "IFRAME", "OBJECT", "EMBED", "FORM", "SVG", "MATH", "STYLE", "IMG"]
                .includes(node.tagName.toUpperCase())) bad.push(node.tagName);
            for (const attr of node.attributes) {
              const value = attr.value.replace(/\\s/g, "").toLowerCase();
              if (attr.name.startsWith("on")) bad.push(attr.name);
              if (value.startsWith("javascript:") || value.startsWith("data:")) {
                bad.push(attr.name + "=" + value);
              }
            }
          }
          return { xss: window.__xss === undefined ? null : window.__xss, bad };
        }"""
    )
    return report


async def test_no_payload_runs_or_survives_in_the_dom(live: Live, page: Page) -> None:
    payloads = dict(enumerate(PAYLOADS))

    def script(body: dict[str, Any]) -> Script:
        index = int(body["messages"][-1]["content"].split()[-1])
        return Script(content=split(payloads[index]))

    live.script_by_request = script
    for index, payload in payloads.items():
        await page.fill("#composer-input", f"payload {index}")
        await page.click("#send")
        answer = page.locator(".message.assistant").nth(index)
        await expect(answer).to_have_attribute("data-status", "complete")
        report = await dom_report(page)
        assert report == {"xss": None, "bad": []}, (payload, report)
    # The guard took the tags out before they reached the browser, and says so in their place;
    # the words around them stay.
    texts = await page.locator(".message.assistant .answer").all_inner_texts()
    assert "〔HTMLタグを削除しました〕" in texts[0] and "<script" not in texts[0]
    assert "visible" in texts[-1]
    # Markdown that is not HTML still renders; hovering what was a handler's element does nothing.
    hover = page.locator(".message.assistant").nth(9).locator(".answer")
    assert await hover.locator("strong").count() == 1
    await hover.hover()
    assert (await dom_report(page))["xss"] is None
    await page.reload()  # the stored answers render the same way
    await expect(page.locator(".message.assistant")).to_have_count(len(PAYLOADS))
    assert await dom_report(page) == {"xss": None, "bad": []}


async def test_payloads_in_titles_and_questions_are_text(live: Live, page: Page) -> None:
    live.script = Script(content=("ok",))
    payload = '<img src=x onerror="window.__xss=20"><script>window.__xss=21</script>'
    await page.fill("#composer-input", payload)
    await page.click("#send")
    await expect(page.locator(".message.assistant").last).to_have_attribute(
        "data-status", "complete"
    )
    await expect(page.locator(".message.user .message-body").last).to_have_text(payload)
    title = page.locator("li.conversation-item.active .conversation-title")
    await expect(title).to_contain_text("<img src=x")
    report = await page.evaluate(
        """() => ({ xss: window.__xss === undefined ? null : window.__xss,
                    imgs: document.querySelectorAll("img").length,
                    scripts: [...document.scripts]
                      .filter(s => !s.src && s.type !== "application/json").length })"""
    )
    assert report == {"xss": None, "imgs": 0, "scripts": 0}


async def test_the_page_renderer_alone_neutralises_every_payload(page: Page) -> None:
    """The second wall on its own: the page's Markdown renderer (marked + DOMPurify), given
    each payload as if the guard had let it through."""
    result = await page.evaluate(
        """async (payloads) => {
          const md = await import("/static/js/markdown.js");
          md.setUpMarkdown();
          const bad = [];
          for (const payload of payloads) {
            const box = document.createElement("div");
            document.body.appendChild(box);
            md.renderMarkdownInto(box, payload);
            for (const node of box.querySelectorAll("*")) {
              if (["SCRIPT", "IFRAME", "SVG", "MATH", "FORM", "IMG", "STYLE", "OBJECT"]
                  .includes(node.tagName.toUpperCase())) bad.push([payload, node.tagName]);
              for (const attr of node.attributes) {
                const value = attr.value.replace(/\\s/g, "").toLowerCase();
                if (attr.name.startsWith("on") || value.startsWith("javascript:")
                    || value.startsWith("data:")) bad.push([payload, attr.name]);
              }
            }
            box.querySelectorAll("a").forEach((a) => a.click());
            box.remove();
          }
          await new Promise((r) => setTimeout(r, 100));
          const probe = document.createElement("div");
          md.renderMarkdownInto(probe, "**rendered**");
          return { bad, xss: window.__xss === undefined ? null : window.__xss,
                   markdown: probe.querySelector("strong") !== null };
        }""",
        list(PAYLOADS),
    )
    assert result == {"bad": [], "xss": None, "markdown": True}
