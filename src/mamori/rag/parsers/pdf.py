"""PDF through pypdfium2 (PDFium, Apache-2.0/BSD): text by page, page numbers kept.

PDFium breaks text into lines as laid out. Japanese has no spaces between words, so a line
broken in the middle of a sentence is joined without one; a line that ends a sentence keeps
its break, which the chunker reads as a sentence boundary.
"""

from __future__ import annotations

import re

import pypdfium2 as pdfium

from mamori.domain.documents import Block, ParsedDocument
from mamori.errors import DocumentRejectedError
from mamori.rag.parsers.limits import ParseLimits

_PASSWORD_ERROR = 4  # FPDF_ERR_PASSWORD
_ENDS = re.compile(r"[。！？!?：:」』）)]$")
_CJK = re.compile(r"[\u3000-\u30ff\u3400-\u9fff\uf900-\ufaff\uff00-\uffef]")


def parse_pdf(data: bytes, limits: ParseLimits) -> ParsedDocument:
    try:
        document = pdfium.PdfDocument(data)
    except pdfium.PdfiumError as exc:
        if getattr(exc, "err_code", None) == _PASSWORD_ERROR or "password" in str(exc).lower():
            raise DocumentRejectedError("password-protected PDF", code="encrypted_file") from exc
        raise DocumentRejectedError(f"unreadable PDF: {exc}", code="corrupt_file") from exc
    try:
        pages = len(document)
        if pages > limits.max_pages:
            raise DocumentRejectedError(f"{pages} pages", code="file_too_large")
        blocks: list[Block] = []
        empty: list[int] = []
        for number in range(1, pages + 1):
            page = document[number - 1]
            try:
                textpage = page.get_textpage()
                try:
                    text = join_lines(textpage.get_text_range())
                finally:
                    textpage.close()
            finally:
                page.close()
            if text:
                blocks.append(Block(text, page=number))
            else:
                empty.append(number)
        title = (document.get_metadata_dict().get("Title") or "").strip() or None
    except pdfium.PdfiumError as exc:
        raise DocumentRejectedError(f"unreadable PDF: {exc}", code="corrupt_file") from exc
    finally:
        document.close()
    if not blocks:
        raise DocumentRejectedError("no page has a text layer", code="no_text_layer")
    warnings = [f"pages without text (scanned?): {_ranges(empty)}"] if empty else []
    return ParsedDocument(title=title, blocks=blocks, pages=pages, warnings=warnings)


def join_lines(text: str) -> str:
    lines = [" ".join(line.split()) for line in text.replace("\r\n", "\n").split("\n")]
    out = ""
    for line in lines:
        if not line:
            if out and not out.endswith("\n"):
                out += "\n"
            continue
        if not out or out.endswith("\n"):
            out += line
        elif _ENDS.search(out):
            out += "\n" + line
        elif _CJK.match(out[-1]) or _CJK.match(line[0]):
            out += line
        else:
            out += " " + line
    return out.strip().replace("\x00", "")


def _ranges(numbers: list[int]) -> str:
    shown = ", ".join(str(n) for n in numbers[:20])
    return shown + (" …" if len(numbers) > 20 else "")
