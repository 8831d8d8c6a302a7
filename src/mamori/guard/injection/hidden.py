"""Where a document hides text from its human reader: HTML comments, invisible elements, image
alt text, Unicode tag characters.

A sentence there is read by the model and by nobody else, which is exactly where an injector
writes. Patterns already see the text inside (the view keeps it); these regions add evidence:
a hit inside one weighs more, and an order addressed to the assistant inside one is a tool
hijack on its own (``tool_hijack``).
"""

from __future__ import annotations

import re

_COMMENT = re.compile(r"<!--(.*?)(?:-->|$)", re.DOTALL)
_INVISIBLE_ELEMENT = re.compile(
    r"<(?P<tag>[a-z][a-z0-9]*)\b[^>]*?(?:display\s?:\s?none|visibility\s?:\s?hidden|"
    r"font-size\s?:\s?0|opacity\s?:\s?0(?![.0-9]*[1-9])|color\s?:\s?(?:#fff(?:fff)?|white)\b|"
    r"\bhidden\b|aria-hidden)[^>]*>(?P<inner>.*?)</(?P=tag)>",
    re.DOTALL,
)
_ALT_TEXT = re.compile(r"!\[([^\]\n]{12,})\]\(|\balt\s?=\s?\"([^\"]{12,})\"")
# Unicode tag characters (U+E0000 block) spell invisible ASCII ("ASCII smuggling").
TAG_CHARS = re.compile("[\U000e0000-\U000e007f]{4,}")


def hidden_regions(text: str) -> list[tuple[int, int]]:
    """Spans (in ``text``, the prepared view) whose content a human reader does not see."""
    regions: list[tuple[int, int]] = []
    for found in _COMMENT.finditer(text):
        regions.append(found.span(1))
    for found in _INVISIBLE_ELEMENT.finditer(text):
        regions.append(found.span("inner"))
    for found in _ALT_TEXT.finditer(text):
        group = 1 if found.group(1) is not None else 2
        regions.append(found.span(group))
    return sorted(regions)


def inside(regions: list[tuple[int, int]], start: int, end: int) -> bool:
    return any(lo <= start and end <= hi for lo, hi in regions)
