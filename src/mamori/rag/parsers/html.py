"""HTML: headings, paragraphs, list items and table rows, without scripts, styles and
navigation. The standard library's parser: it never fetches anything a page refers to."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

from mamori.domain.documents import Block, ParsedDocument
from mamori.rag.parsers.text import bom_encoding, decode

_SKIP = {"script", "style", "nav", "noscript", "template", "head", "svg", "iframe"}
_HEADINGS = {f"h{i}": i for i in range(1, 7)}
_BLOCKS = {"p", "li", "div", "section", "article", "blockquote", "pre", "dd", "dt", "br"}
_CELLS = {"td", "th"}
_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([\w-]+)""", re.IGNORECASE)


@dataclass
class _Table:
    """An open <table>: the row being read, whether a cell of it is open, and the text of the
    enclosing cell that a nested table interrupted."""

    row: list[str] | None = None
    in_cell: bool = False
    outer_text: list[str] = field(default_factory=list)


class _Reader(HTMLParser):
    # </td>, </th> and </tr> are optional in HTML: a cell ends at the next cell, the row or
    # the table ending; a row at the next row or the table ending. As in browsers, a row or
    # cell tag outside any <table> is ignored: taken as a table it would swallow the page.

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[Block] = []
        self.title: str | None = None
        self._text: list[str] = []
        self._tables: list[_Table] = []
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
        elif tag == "table":
            self._flush()
            self._tables.append(_Table(outer_text=self._text))
            self._text = []
        elif tag == "tr" and self._tables:
            self._end_row()
            self._flush()
            self._tables[-1].row = []
        elif tag in _CELLS and self._tables:
            self._end_cell()
            self._flush()
            table = self._tables[-1]
            if table.row is None:
                table.row = []
            table.in_cell = True
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
        elif tag == "table" and self._tables:
            self._end_table()
        elif tag == "tr" and self._tables:
            self._end_row()
        elif tag in _CELLS and self._tables:
            self._end_cell()
        elif tag in _BLOCKS:
            self._flush()

    def handle_data(self, data: str) -> None:
        if self._skipping:
            return
        if self._in_title:
            self.title = ((self.title or "") + data).strip() or None
            return
        self._text.append(data)

    def _take_text(self) -> str:
        text = " ".join("".join(self._text).split())
        self._text = []
        return text

    def _end_cell(self) -> None:
        if self._tables and self._tables[-1].in_cell:
            table = self._tables[-1]
            assert table.row is not None
            # Kept even when empty: an empty cell still holds its column's place.
            table.row.append(self._take_text())
            table.in_cell = False

    def _end_row(self) -> None:
        if not self._tables:
            return
        self._end_cell()
        table = self._tables[-1]
        if table.row is not None and any(table.row):
            self.blocks.append(Block(" | ".join(table.row), kind="table"))
        table.row = None

    def _end_table(self) -> None:
        self._end_row()
        self._flush()
        self._text = [*self._tables.pop().outer_text, " "]

    def _flush(self) -> None:
        if self._tables and self._tables[-1].in_cell:
            # A cell is one value: a block inside it only separates words.
            self._text.append(" ")
            return
        # Text in a table but outside its cells is shown before the table by browsers; as a
        # paragraph of its own it is at least not lost.
        text = self._take_text()
        if not text:
            return
        if self._heading:
            self.blocks.append(Block(text, kind="heading", level=self._heading))
        else:
            self.blocks.append(Block(text))

    def close(self) -> None:
        super().close()
        while self._tables:
            self._end_table()
        self._flush()


def parse_html(data: bytes) -> ParsedDocument:
    match = _CHARSET.search(data[:4096])
    text: str | None = None
    # A BOM outranks the declared charset; decoding past it would leave U+FEFF in the text.
    if match and bom_encoding(data) is None:
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
