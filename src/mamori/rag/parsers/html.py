"""HTML: headings, paragraphs, list items and table rows, without scripts, styles and
navigation. The standard library's parser: it never fetches anything a page refers to."""

from __future__ import annotations

import re
from html.parser import HTMLParser

from mamori.domain.documents import Block, ParsedDocument
from mamori.rag.parsers.text import decode

_SKIP = {"script", "style", "nav", "noscript", "template", "head", "svg", "iframe"}
_HEADINGS = {f"h{i}": i for i in range(1, 7)}
_BLOCKS = {"p", "li", "div", "section", "article", "blockquote", "pre", "dd", "dt", "br", "tr"}
_CELLS = {"td", "th"}
_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([\w-]+)""", re.IGNORECASE)


class _Reader(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[Block] = []
        self.title: str | None = None
        self._text: list[str] = []
        self._cells: list[str] | None = None
        self._skipping = 0
        self._in_title = False
        self._heading = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP and tag != "head":
            self._skipping += 1
        elif tag == "title":
            self._in_title = True
        elif tag in _HEADINGS:
            self._flush()
            self._heading = _HEADINGS[tag]
        elif tag == "tr":
            self._flush()
            self._cells = []
        elif tag in _CELLS and self._cells is not None:
            self._cell_break()
        elif tag in _BLOCKS:
            self._flush()

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP and tag != "head":
            self._skipping = max(0, self._skipping - 1)
        elif tag == "title":
            self._in_title = False
        elif tag in _HEADINGS:
            self._flush()
            self._heading = 0
        elif tag == "tr" and self._cells is not None:
            self._cell_break()
            if any(self._cells):
                self.blocks.append(Block(" | ".join(self._cells), kind="table"))
            self._cells = None
        elif tag in _BLOCKS:
            self._flush()

    def handle_data(self, data: str) -> None:
        if self._skipping:
            return
        if self._in_title:
            self.title = ((self.title or "") + data).strip() or None
            return
        self._text.append(data)

    def _cell_break(self) -> None:
        assert self._cells is not None
        text = " ".join("".join(self._text).split())
        self._text = []
        if text or self._cells:
            self._cells.append(text)

    def _flush(self) -> None:
        if self._cells is not None:
            return  # inside a table row: text is gathered per cell
        text = " ".join("".join(self._text).split())
        self._text = []
        if not text:
            return
        if self._heading:
            self.blocks.append(Block(text, kind="heading", level=self._heading))
        else:
            self.blocks.append(Block(text))

    def close(self) -> None:
        super().close()
        self._flush()


def parse_html(data: bytes) -> ParsedDocument:
    match = _CHARSET.search(data[:4096])
    text: str | None = None
    if match:
        try:
            text = data.decode(match.group(1).decode("ascii"))
        except (LookupError, UnicodeDecodeError):
            text = None
    reader = _Reader()
    reader.feed(text if text is not None else decode(data))
    reader.close()
    # Adjacent table rows form one table block, so chunking keeps rows as lines of a table.
    blocks: list[Block] = []
    for block in reader.blocks:
        if block.kind == "table" and blocks and blocks[-1].kind == "table":
            blocks[-1] = Block(blocks[-1].text + "\n" + block.text, kind="table")
        else:
            blocks.append(block)
    return ParsedDocument(title=reader.title, blocks=blocks)
