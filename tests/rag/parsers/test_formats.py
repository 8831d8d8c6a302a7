"""Each supported format becomes titled, ordered blocks, with pages where the format has them,
and each kind of bad file is refused with its own reason."""

from __future__ import annotations

import pytest

from mamori.domain.documents import ParsedDocument
from mamori.errors import DocumentRejectedError
from mamori.rag.parsers import ParseLimits, parse_document
from tests.support.documents import (
    build_docx,
    build_encrypted_pdf,
    build_image_only_pdf,
    build_pdf,
    build_pptx,
    build_xlsx,
    build_zip_bomb_docx,
    cp932_text,
)


def kinds(parsed: ParsedDocument) -> list[tuple[str, str]]:
    return [(b.kind, b.text) for b in parsed.blocks]


def test_pdf_keeps_its_pages_and_its_japanese_text() -> None:
    parsed = parse_document(
        build_pdf(["第1章 総則\n窓口業務を定める。", "第2章 受付\n平日に受け付ける。"], "手引"),
        "手引.pdf",
    )
    assert parsed.title == "手引" and parsed.pages == 2
    by_page = {b.page: b.text for b in parsed.blocks}
    assert "窓口業務を定める" in by_page[1] and "平日に受け付ける" in by_page[2]


def test_docx_headings_paragraphs_and_tables_in_order() -> None:
    data = build_docx(
        [
            ("Heading 1", "総則"),
            ("Normal", "この規程は窓口業務に適用する。"),
            ("Heading 2", "手数料"),
            ("table", "項目|金額;住民票|300円"),
        ],
        title="窓口規程",
    )
    parsed = parse_document(data, "規程.docx")
    assert parsed.title == "窓口規程"
    assert kinds(parsed) == [
        ("heading", "総則"),
        ("paragraph", "この規程は窓口業務に適用する。"),
        ("heading", "手数料"),
        ("table", "項目 | 金額\n住民票 | 300円"),
    ]
    assert [b.level for b in parsed.blocks if b.kind == "heading"] == [1, 2]


def test_xlsx_gives_each_sheet_as_a_table_on_its_own_page() -> None:
    data = build_xlsx({"手数料": [["種類", "金額"], ["住民票", 300]], "窓口": [["課", "階"]]})
    parsed = parse_document(data, "一覧.xlsx")
    assert parsed.pages == 2
    assert kinds(parsed) == [
        ("heading", "手数料"),
        ("table", "種類 | 金額\n住民票 | 300"),
        ("heading", "窓口"),
        ("table", "課 | 階"),
    ]
    assert [b.page for b in parsed.blocks] == [1, 1, 2, 2]


def test_pptx_slides_are_pages_with_their_titles_as_headings() -> None:
    parsed = parse_document(
        build_pptx([("概要", ["一つ目", "二つ目"]), ("日程", ["四月"])]), "a.pptx"
    )
    assert parsed.pages == 2
    assert [(b.page, b.kind, b.text) for b in parsed.blocks] == [
        (1, "heading", "概要"),
        (1, "paragraph", "一つ目"),
        (1, "paragraph", "二つ目"),
        (2, "heading", "日程"),
        (2, "paragraph", "四月"),
    ]


def test_html_keeps_headings_and_text_never_script_or_style() -> None:
    page = (
        "<html><head><title>案内</title><style>.secret{color:red}</style>"
        "<script>var token='s3cret';</script></head><body><h1>窓口</h1><p>平日に開く。</p>"
        "<nav>メニュー</nav><h2>場所</h2><p>本庁舎1階。</p></body></html>"
    )
    parsed = parse_document(page.encode(), "案内.html")
    text = "\n".join(b.text for b in parsed.blocks)
    assert parsed.title == "案内"
    assert "s3cret" not in text and "color:red" not in text
    assert ("heading", "窓口") in kinds(parsed) and ("heading", "場所") in kinds(parsed)
    assert "本庁舎1階。" in text


def test_markdown_headings_set_the_title_and_levels() -> None:
    parsed = parse_document("# 題名\n\n本文。\n\n## 節\n\n続き。\n".encode(), "a.md")
    assert parsed.title == "題名"
    assert [(b.kind, b.level) for b in parsed.blocks if b.kind == "heading"] == [
        ("heading", 1),
        ("heading", 2),
    ]


@pytest.mark.parametrize(
    ("data", "encoding"),
    [
        ("住民票の写しの交付、ｶﾀｶﾅ混じり。".encode(), "utf-8"),
        ("\ufeff住民票の写しの交付、ｶﾀｶﾅ混じり。".encode(), "utf-8 with BOM"),
        (cp932_text("住民票の写しの交付、ｶﾀｶﾅ混じり。"), "cp932"),
        ("住民票の写しの交付、ｶﾀｶﾅ混じり。".encode("euc-jp"), "euc-jp"),
    ],
)
def test_text_in_every_japanese_office_encoding_is_read(data: bytes, encoding: str) -> None:
    [block] = parse_document(data, "memo.txt").blocks
    assert block.text == "住民票の写しの交付、ｶﾀｶﾅ混じり。", encoding


def test_csv_in_shift_jis_becomes_a_table_with_its_header() -> None:
    data = "種類,金額\n住民票,300\n印鑑証明,300\n".encode("cp932")
    [table] = parse_document(data, "手数料.csv").blocks
    assert table.kind == "table" and table.text.splitlines()[0] == "種類 | 金額"
    assert "印鑑証明 | 300" in table.text


@pytest.mark.parametrize(
    ("name", "data", "code"),
    [
        ("空.txt", b"", "empty_file"),
        ("setup.exe", b"MZ\x90\x00", "unsupported_file_type"),
        ("archive.zip", b"PK\x03\x04", "unsupported_file_type"),
        ("切れた.pdf", build_pdf(["途中で切れる文書"])[:150], "corrupt_file"),
        ("偽物.docx", b"this is not a zip at all " * 40, "corrupt_file"),
        ("偽物.xlsx", build_pdf(["PDF です"]), "corrupt_file"),
        ("binary.txt", b"\x00\x01\x02garbage" * 100, "corrupt_file"),
        ("保護.pdf", build_encrypted_pdf(), "encrypted_file"),
        ("スキャン.pdf", build_image_only_pdf(), "no_text_layer"),
        ("爆弾.docx", build_zip_bomb_docx(), "archive_bomb"),
    ],
)
def test_bad_files_are_refused_with_their_reason(name: str, data: bytes, code: str) -> None:
    with pytest.raises(DocumentRejectedError) as refused:
        parse_document(data, name)
    assert refused.value.code == code


def test_a_file_over_the_size_limit_is_refused_before_it_is_read() -> None:
    with pytest.raises(DocumentRejectedError) as refused:
        parse_document(b"x" * 2000, "a.txt", ParseLimits(max_bytes=1000))
    assert refused.value.code == "file_too_large"
