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
# UTF-8 first: its byte patterns almost never occur by chance in CP932 or EUC-JP text, so a
# file that decodes as UTF-8 is UTF-8. CP932 and EUC-JP overlap a lot (much EUC-JP decodes
# as CP932 half-width katakana), so when both decode, the one that reads as Japanese wins.
_LEGACY = ("cp932", "euc-jp")


def bom_encoding(data: bytes) -> str | None:
    """The encoding a byte order mark at the start of ``data`` names; a BOM outranks any
    charset the content declares (as in browsers), since editors write it, not people."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            return encoding
    return None


def decode(data: bytes) -> str:
    encoding = bom_encoding(data)
    if encoding is not None:
        # The codecs drop the BOM itself; line ends still come as the editor wrote them.
        return _lines(data.decode(encoding))
    if b"\x00" in data[:4096]:
        raise DocumentRejectedError("binary content in a text file", code="corrupt_file")
    try:
        return _lines(data.decode("utf-8"))
    except UnicodeDecodeError:
        pass
    readings = []
    for encoding in _LEGACY:
        try:
            readings.append(data.decode(encoding))
        except UnicodeDecodeError:
            continue
    if not readings:
        raise DocumentRejectedError("not UTF-8, CP932 or EUC-JP text", code="corrupt_file")
    # max() keeps the first of equals: CP932, far more common in Japanese offices.
    return _lines(max(readings, key=_japaneseness))


def _japaneseness(text: str) -> int:
    """Hiragana, full-width katakana and common kanji count for; half-width katakana (what a
    wrong guess mostly produces) and private-use characters count against."""
    sample = text[:20_000]
    score = 0
    for ch in sample:
        code = ord(ch)
        if 0x3040 <= code <= 0x30FF or 0x4E00 <= code <= 0x9FFF or 0x3000 <= code <= 0x303F:
            score += 1
        elif 0xFF61 <= code <= 0xFF9F or 0xE000 <= code <= 0xF8FF:
            score -= 2
    return score


def _lines(text: str) -> str:
    return text.replace("\r\n", "\n").replace("\r", "\n")


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
