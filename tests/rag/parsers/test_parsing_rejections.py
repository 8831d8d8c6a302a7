"""Every reason a file is refused, each reached the way a real bad file reaches it, and how
``parse_document`` maps what a library raises onto those reasons."""

from __future__ import annotations

import io
import random
import zipfile
import zlib
from collections.abc import Callable
from dataclasses import dataclass

import pytest

from mamori.domain.documents import ParsedDocument
from mamori.errors import DocumentRejectedError
from mamori.rag.parsers import ParseLimits, parse_document
from mamori.rag.parsers import text as text_parser
from tests.support.documents import (
    build_docx,
    build_encrypted_pdf,
    build_image_only_pdf,
    build_pdf,
    build_pptx,
    build_xlsx,
    build_zip_bomb_docx,
)

OLE = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"


def noise(size: int, seed: int) -> bytes:
    # Seeded, so that "random" bytes never happen to start with a zip or OLE signature.
    return random.Random(seed).randbytes(size)


def zip_of(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return out.getvalue()


def docx_with_encrypted_member() -> bytes:
    """A .docx-shaped zip whose document.xml carries the traditional-encryption flag."""
    payload = noise(12, 7) + b"<w:document/>"  # 12-byte encryption header, then the data
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("[Content_Types].xml", "<Types/>")
        # Written by hand: zipfile clears the encryption flag on everything it writes.
        info = zipfile.ZipInfo("word/document.xml")
        info.flag_bits = 0x1
        info.compress_type = zipfile.ZIP_STORED
        info.file_size = len(payload) - 12
        info.compress_size = len(payload)
        info.CRC = zlib.crc32(payload[12:])
        fp = archive.fp
        assert fp is not None
        info.header_offset = fp.tell()
        fp.write(info.FileHeader())
        fp.write(payload)
        archive.filelist.append(info)
        archive.NameToInfo[info.filename] = info
        archive.start_dir = fp.tell()
    return out.getvalue()


def half(data: bytes) -> bytes:
    return data[: len(data) // 2]


@dataclass(frozen=True)
class Case:
    build: Callable[[], bytes]
    filename: str
    code: str
    limits: ParseLimits | None = None


CASES: dict[str, Case] = {
    "zero-bytes-txt": Case(lambda: b"", "empty.txt", "empty_file"),
    "zero-bytes-pdf": Case(lambda: b"", "empty.pdf", "empty_file"),
    # Emptiness is the first thing said, even for a type that is not supported.
    "zero-bytes-exe": Case(lambda: b"", "empty.exe", "empty_file"),
    "over-max-bytes": Case(
        lambda: b"x" * 101, "big.txt", "file_too_large", ParseLimits(max_bytes=100)
    ),
    "pdf-over-max-bytes": Case(
        lambda: build_pdf(["本文"]), "big.pdf", "file_too_large", ParseLimits(max_bytes=200)
    ),
    "pdf-over-max-pages": Case(
        lambda: build_pdf(["一頁目", "二頁目", "三頁目"]),
        "long.pdf",
        "file_too_large",
        ParseLimits(max_pages=2),
    ),
    "exe": Case(lambda: b"MZ\x90\x00\x03\x00", "setup.exe", "unsupported_file_type"),
    "zip": Case(lambda: zip_of({"a.txt": b"hello"}), "bundle.zip", "unsupported_file_type"),
    "legacy-doc": Case(lambda: OLE + bytes(504), "old.doc", "unsupported_file_type"),
    "no-suffix": Case(lambda: b"hello", "README", "unsupported_file_type"),
    "double-suffix": Case(lambda: b"hello", "notes.txt.gz", "unsupported_file_type"),
    "pdf-first-200-bytes": Case(
        lambda: build_pdf(["途中で切れる"])[:200], "cut.pdf", "corrupt_file"
    ),
    "pdf-first-half": Case(
        lambda: half(build_pdf(["一頁目の本文", "二頁目の本文", "三頁目の本文"])),
        "cut.pdf",
        "corrupt_file",
    ),
    "pdf-header-only": Case(lambda: b"%PDF-1.7\n" + noise(2000, 1), "junk.pdf", "corrupt_file"),
    "random-docx": Case(lambda: noise(4096, 2), "random.docx", "corrupt_file"),
    "random-xlsx": Case(lambda: noise(4096, 3), "random.xlsx", "corrupt_file"),
    "random-pptx": Case(lambda: noise(4096, 4), "random.pptx", "corrupt_file"),
    "zip-magic-then-noise": Case(
        lambda: b"PK\x03\x04" + noise(4096, 5), "broken.docx", "corrupt_file"
    ),
    "docx-cut-in-half": Case(
        lambda: half(build_docx([("Normal", "本文" * 200)])), "cut.docx", "corrupt_file"
    ),
    "docx-with-garbage-xml": Case(
        lambda: zip_of({"[Content_Types].xml": b"<Types/>", "word/document.xml": b"<<not xml"}),
        "garbage.docx",
        "corrupt_file",
    ),
    "pptx-as-xlsx": Case(lambda: build_pptx([("題", ["本文"])]), "slides.xlsx", "corrupt_file"),
    "nul-bytes-txt": Case(lambda: b"\x00\x01\x02garbage" * 100, "binary.txt", "corrupt_file"),
    "undecodable-txt": Case(
        lambda: bytes(b for b in noise(4096, 6) if b), "binary.txt", "corrupt_file"
    ),
    "encrypted-pdf": Case(build_encrypted_pdf, "secret.pdf", "encrypted_file"),
    # Password-protected OOXML is an OLE container, whatever its suffix says.
    "ole-docx": Case(lambda: OLE + bytes(504), "secret.docx", "encrypted_file"),
    "ole-xlsx": Case(lambda: OLE + bytes(504), "secret.xlsx", "encrypted_file"),
    "ole-pptx": Case(lambda: OLE + bytes(504), "secret.pptx", "encrypted_file"),
    "zip-encrypted-member": Case(docx_with_encrypted_member, "locked.docx", "encrypted_file"),
    "encrypted-package-member": Case(
        lambda: zip_of({"EncryptedPackage": noise(256, 8)}), "locked.xlsx", "encrypted_file"
    ),
    "image-only-pdf": Case(build_image_only_pdf, "scan.pdf", "no_text_layer"),
    "single-blank-page": Case(lambda: build_image_only_pdf(1), "scan.pdf", "no_text_layer"),
    "bomb-declared-size": Case(build_zip_bomb_docx, "bomb.docx", "archive_bomb"),
    # 2 MB of zeros packed a thousandfold: under the total, over the per-member ratio.
    "bomb-ratio": Case(lambda: build_zip_bomb_docx(2 * 1024 * 1024), "bomb.docx", "archive_bomb"),
    "too-many-members": Case(
        lambda: build_docx([("Normal", "本文")]),
        "many.docx",
        "archive_bomb",
        ParseLimits(max_zip_members=3),
    ),
    "expands-beyond-limit": Case(
        lambda: build_xlsx({"S": [["a", "b"]]}),
        "wide.xlsx",
        "archive_bomb",
        ParseLimits(max_expanded_bytes=1000),
    ),
}


def test_the_cases_cover_every_reason_parse_document_can_give() -> None:
    # parse_timeout belongs to the worker pool; test_parser_pool covers it.
    reasons = set(DocumentRejectedError.REASONS) - {"parse_timeout"}
    assert {case.code for case in CASES.values()} == reasons


@pytest.mark.parametrize("name", list(CASES))
def test_bad_file_is_refused_with_its_reason(name: str) -> None:
    case = CASES[name]
    with pytest.raises(DocumentRejectedError) as info:
        parse_document(case.build(), case.filename, case.limits)
    assert info.value.code == case.code
    assert info.value.code in DocumentRejectedError.REASONS
    assert info.value.http_status == 422
    assert info.value.message


def test_a_file_of_exactly_max_bytes_is_accepted() -> None:
    doc = parse_document(b"x" * 100, "limit.txt", ParseLimits(max_bytes=100))
    assert [b.text for b in doc.blocks] == ["x" * 100]


def test_a_pdf_of_exactly_max_pages_is_accepted() -> None:
    doc = parse_document(build_pdf(["一頁目", "二頁目"]), "a.pdf", ParseLimits(max_pages=2))
    assert doc.pages == 2


def test_the_size_limit_is_checked_before_the_suffix() -> None:
    # An oversize upload is refused for its size, without any parser being chosen.
    with pytest.raises(DocumentRejectedError) as info:
        parse_document(b"x" * 11, "big.exe", ParseLimits(max_bytes=10))
    assert info.value.code == "file_too_large"


def test_a_library_failure_is_the_files_fault_and_says_what_failed(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def explode(data: bytes) -> ParsedDocument:
        raise KeyError("missing part")

    monkeypatch.setattr(text_parser, "parse_text", explode)
    with pytest.raises(DocumentRejectedError) as info:
        parse_document(b"hello", "a.txt")
    assert info.value.code == "corrupt_file"
    assert "KeyError" in info.value.message
    assert isinstance(info.value.__cause__, KeyError)


def test_running_out_of_memory_while_parsing_is_an_archive_bomb(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def exhaust(data: bytes) -> ParsedDocument:
        raise MemoryError

    monkeypatch.setattr(text_parser, "parse_text", exhaust)
    with pytest.raises(DocumentRejectedError) as info:
        parse_document(b"hello", "a.txt")
    assert info.value.code == "archive_bomb"


def test_a_rejection_raised_by_a_parser_passes_through_unchanged(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    refusal = DocumentRejectedError("a parser's own words", code="no_text_layer")

    def refuse(data: bytes) -> ParsedDocument:
        raise refusal

    monkeypatch.setattr(text_parser, "parse_text", refuse)
    with pytest.raises(DocumentRejectedError) as info:
        parse_document(b"hello", "a.txt")
    assert info.value is refusal
