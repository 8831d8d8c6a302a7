"""Markdown: ATX headings (# to ######) become headings, the rest paragraphs and tables.

No Markdown library: only the structure matters for search, and the text is kept as written.
"""

from __future__ import annotations

import re

from mamori.domain.documents import Block, ParsedDocument
from mamori.rag.parsers.text import decode, paragraphs

# One way to match a line, so matching stays linear in its length: a lazy group between
# optional runs of the same characters backtracks polynomially on a long heading line.
_HEADING = re.compile(r"^(#{1,6})[ \t]+(.*)$")
_FENCE = re.compile(r"^(```|~~~)")


def parse_markdown(data: bytes) -> ParsedDocument:
    title: str | None = None
    blocks: list[Block] = []
    buffer: list[str] = []
    fenced = False

    def flush() -> None:
        if buffer:
            blocks.extend(paragraphs("\n".join(buffer)))
            buffer.clear()

    for line in decode(data).split("\n"):
        if _FENCE.match(line.strip()):
            fenced = not fenced
            continue
        match = None if fenced else _HEADING.match(line)
        if match is None:
            buffer.append(line)
            continue
        flush()
        level, text = len(match.group(1)), _without_closing_hashes(match.group(2))
        if text:
            if title is None and level == 1:
                title = text
            blocks.append(Block(text, kind="heading", level=level))
    flush()
    return ParsedDocument(title=title, blocks=blocks)


def _without_closing_hashes(text: str) -> str:
    """Drops an optional closing run of '#' ("## 準備 ##"), which counts as one only after a
    space or as the whole text: the '#' of "C#" is part of the heading."""
    text = text.strip()
    bare = text.rstrip("#")
    if not bare or bare[-1] in " \t":
        return bare.strip()
    return text
