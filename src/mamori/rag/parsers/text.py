"""Text in the encodings Japanese offices still produce: UTF-8 (with or without BOM),
Shift_JIS as Windows writes it (CP932), EUC-JP, UTF-16 with a BOM."""

from __future__ import annotations

import codecs

from mamori.domain.documents import Block, ParsedDocument
from mamori.errors import DocumentRejectedError

_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# Tried in order; the first that decodes the whole file strictly wins. UTF-8 first: its
# byte patterns almost never occur by chance in CP932 or EUC-JP text. CP932 before EUC-JP,
# since it is far more common in Japanese offices.
_CANDIDATES = ("utf-8", "cp932", "euc-jp")


def decode(data: bytes) -> str:
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return data.decode(encoding)
    if b"\x00" in data[:4096]:
        raise DocumentRejectedError("binary content in a text file", code="corrupt_file")
    for encoding in _CANDIDATES:
        try:
            text = data.decode(encoding)
        except UnicodeDecodeError:
            continue
        return text.replace("\r\n", "\n").replace("\r", "\n")
    raise DocumentRejectedError("not UTF-8, CP932 or EUC-JP text", code="corrupt_file")


def paragraphs(text: str, page: int | None = None) -> list[Block]:
    blocks = []
    for part in text.split("\n\n"):
        lines = [line.strip() for line in part.splitlines()]
        joined = "\n".join(line for line in lines if line)
        if joined:
            blocks.append(Block(joined, page=page))
    return blocks


def parse_text(data: bytes) -> ParsedDocument:
    return ParsedDocument(title=None, blocks=paragraphs(decode(data)))
