"""Parsers: a file's bytes into a ``ParsedDocument``, or a ``DocumentRejectedError`` saying why
not (its ``code`` is one of ``DocumentRejectedError.REASONS``).

The type comes from the name's suffix and must agree with the content: a PDF named .docx is
refused as corrupt, not guessed at. ``parse_document`` runs in the calling process; the
server and the CLI go through ``isolation.ParserPool``, which runs it in a worker process
with a time and memory limit, so that a hostile file cannot hang or crash mamori.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import PurePath

from mamori.domain.documents import ParsedDocument
from mamori.errors import DocumentRejectedError
from mamori.rag.parsers.limits import ParseLimits

__all__ = ["SUPPORTED_SUFFIXES", "ParseLimits", "parse_document"]

_ZIP = b"PK\x03\x04"
_OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # legacy Office, and encrypted OOXML


def _pdf(data: bytes, limits: ParseLimits) -> ParsedDocument:
    from mamori.rag.parsers.pdf import parse_pdf

    if b"%PDF-" not in data[:1024]:
        raise DocumentRejectedError("no PDF header", code="corrupt_file")
    return parse_pdf(data, limits)


def _office(kind: str) -> Callable[[bytes, ParseLimits], ParsedDocument]:
    def parse(data: bytes, limits: ParseLimits) -> ParsedDocument:
        from mamori.rag.parsers import office

        if data.startswith(_OLE):
            # Password-protected OOXML is an OLE container; so is a legacy .doc renamed.
            raise DocumentRejectedError("encrypted or legacy Office file", code="encrypted_file")
        if not data.startswith(_ZIP):
            raise DocumentRejectedError(f"not a {kind} file", code="corrupt_file")
        parser: Callable[[bytes, ParseLimits], ParsedDocument] = getattr(office, f"parse_{kind}")
        return parser(data, limits)

    return parse


def _plain(module: str, name: str) -> Callable[[bytes, ParseLimits], ParsedDocument]:
    def parse(data: bytes, limits: ParseLimits) -> ParsedDocument:
        import importlib

        if data.startswith((_ZIP, b"%PDF-", _OLE)):
            raise DocumentRejectedError("binary file with a text suffix", code="corrupt_file")
        parser: Callable[[bytes], ParsedDocument] = getattr(
            importlib.import_module(f"mamori.rag.parsers.{module}"), name
        )
        return parser(data)

    return parse


_PARSERS: dict[str, Callable[[bytes, ParseLimits], ParsedDocument]] = {
    ".pdf": _pdf,
    ".docx": _office("docx"),
    ".xlsx": _office("xlsx"),
    ".pptx": _office("pptx"),
    ".html": _plain("html", "parse_html"),
    ".htm": _plain("html", "parse_html"),
    ".md": _plain("markdown", "parse_markdown"),
    ".markdown": _plain("markdown", "parse_markdown"),
    ".txt": _plain("text", "parse_text"),
    ".csv": _plain("csv_table", "parse_csv"),
}
SUPPORTED_SUFFIXES = frozenset(_PARSERS)


def parse_document(data: bytes, filename: str, limits: ParseLimits | None = None) -> ParsedDocument:
    limits = limits or ParseLimits()
    if not data:
        raise DocumentRejectedError("0 bytes", code="empty_file")
    if len(data) > limits.max_bytes:
        raise DocumentRejectedError(f"{len(data)} bytes", code="file_too_large")
    parser = _PARSERS.get(PurePath(filename).suffix.lower())
    if parser is None:
        raise DocumentRejectedError("unsupported suffix", code="unsupported_file_type")
    try:
        return parser(data, limits)
    except DocumentRejectedError:
        raise
    except MemoryError as exc:
        raise DocumentRejectedError("out of memory while parsing", code="archive_bomb") from exc
    except Exception as exc:
        # A library choking on a malformed file: the file is at fault, not mamori.
        raise DocumentRejectedError(
            f"{type(exc).__name__} while parsing", code="corrupt_file"
        ) from exc
