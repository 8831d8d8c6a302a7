"""CSV: rows as table blocks of at most ``ROWS_PER_BLOCK`` rows, each repeating the header, so
that every chunk of a long table still says what its columns are."""

from __future__ import annotations

import csv
import io

from mamori.domain.documents import Block, ParsedDocument
from mamori.errors import DocumentRejectedError
from mamori.rag.parsers.text import decode

ROWS_PER_BLOCK = 50


def parse_csv(data: bytes) -> ParsedDocument:
    text = decode(data)
    try:
        dialect = csv.Sniffer().sniff(text[:4096], delimiters=",\t;")
    except csv.Error:
        dialect = csv.excel
    try:
        rows = [r for r in csv.reader(io.StringIO(text), dialect) if any(c.strip() for c in r)]
    except csv.Error as exc:
        raise DocumentRejectedError(f"unreadable CSV: {exc}", code="corrupt_file") from exc
    return ParsedDocument(title=None, blocks=table_blocks(rows))


def table_blocks(rows: list[list[str]], page: int | None = None) -> list[Block]:
    if not rows:
        return []
    header, body = rows[0], rows[1:]
    if not body:
        return [Block(_line(header), page=page, kind="table")]
    return [
        Block(
            "\n".join(_line(r) for r in [header, *body[i : i + ROWS_PER_BLOCK]]),
            page=page,
            kind="table",
        )
        for i in range(0, len(body), ROWS_PER_BLOCK)
    ]


def _line(row: list[str]) -> str:
    return " | ".join(" ".join(cell.split()) for cell in row)
