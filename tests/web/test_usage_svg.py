"""The usage charts are SVG drawn on the server: one bar per day, one per model or group,
sized by their tokens, with every name escaped."""

from __future__ import annotations

import re
from xml.etree import ElementTree

from mamori.web.usage_svg import day_chart, ranking_chart

NS = {"svg": "http://www.w3.org/2000/svg"}


def title(name: str, tokens: int) -> str:
    return f"{name}: {tokens}"


def test_a_bar_per_day_the_highest_reaching_the_top() -> None:
    days = [{"day": f"2026-12-{d:02d}", "tokens": t} for d, t in ((1, 0), (2, 50), (3, 100))]
    svg = ElementTree.fromstring(str(day_chart(days, "日別", title)))
    bars = svg.findall("svg:rect", NS)
    assert [b.get("class") for b in bars] == ["bar bar-empty", "bar", "bar"]
    heights = [int(b.get("height", "0")) for b in bars]
    assert heights[2] == 190 and heights[1] == 95 and heights[0] == 1
    assert svg.find("svg:title", NS) is not None and svg.get("role") == "img"
    assert [t.text for t in svg.findall("svg:rect/svg:title", NS)][2] == "2026-12-03: 100"


def test_names_are_escaped_and_the_longest_comes_first() -> None:
    hostile = '<script>alert(1)</script>"onload="x'
    markup = str(
        ranking_chart([("small", 10), (hostile, 40)], "モデル別", "usage-model-chart", title)
    )
    assert "<script>" not in markup and 'onload="x' not in markup
    svg = ElementTree.fromstring(markup)
    names = [b.get("data-name") for b in svg.findall("svg:rect", NS)]
    assert names == [hostile, "small"]  # parsed back: the text survived, escaped
    widths = [int(b.get("width", "0")) for b in svg.findall("svg:rect", NS)]
    assert widths[0] == 4 * widths[1] or abs(widths[0] - 4 * widths[1]) <= 2
    assert re.search(r'aria-labelledby="usage-model-chart-title"', markup)
