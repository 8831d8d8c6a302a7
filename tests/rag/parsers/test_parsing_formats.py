"""What each parser extracts, in detail: page numbers, headings and their levels, tables as
lines, Japanese text in the encodings offices produce, and refusal of content that does not
match its suffix."""

from __future__ import annotations

import io
import re

import docx
import pptx
import pytest
from pptx.util import Inches

from mamori.domain.documents import Block, ParsedDocument
from mamori.errors import DocumentRejectedError
from mamori.rag.parsers import SUPPORTED_SUFFIXES, ParseLimits, parse_document
from mamori.rag.parsers.csv_table import ROWS_PER_BLOCK
from mamori.rag.parsers.isolation import ParserPool
from tests.support.documents import (
    build_docx,
    build_pdf,
    build_pptx,
    build_xlsx,
    cp932_text,
)


def texts(doc: ParsedDocument) -> list[str]:
    return [b.text for b in doc.blocks]


def rejection(data: bytes, filename: str) -> str:
    with pytest.raises(DocumentRejectedError) as info:
        parse_document(data, filename)
    return info.value.code


def saved(presentation: pptx.presentation.Presentation) -> bytes:
    out = io.BytesIO()
    presentation.save(out)
    return out.getvalue()


def test_supported_suffixes_are_the_documented_formats() -> None:
    assert sorted(SUPPORTED_SUFFIXES) == sorted(
        [".pdf", ".docx", ".xlsx", ".pptx", ".html", ".htm", ".md", ".markdown", ".txt", ".csv"]
    )


# --- PDF ---------------------------------------------------------------------------------


def test_pdf_blocks_carry_their_page_numbers_and_japanese_text() -> None:
    pages = ["第一条 この規程は社内文書の管理を定める。", "Second page in English", "第三頁の本文"]
    doc = parse_document(build_pdf(pages, title="文書管理規程"), "規程.pdf")
    assert doc.title == "文書管理規程"
    assert doc.pages == 3
    assert [(b.page, b.text, b.kind) for b in doc.blocks] == [
        (1, pages[0], "paragraph"),
        (2, pages[1], "paragraph"),
        (3, pages[2], "paragraph"),
    ]
    assert doc.warnings == []


def test_pdf_page_without_text_keeps_later_page_numbers_and_is_warned_about() -> None:
    doc = parse_document(build_pdf(["一枚目の本文", "", "三枚目の本文"]), "scan.pdf")
    assert [(b.page, b.text) for b in doc.blocks] == [(1, "一枚目の本文"), (3, "三枚目の本文")]
    assert doc.pages == 3
    assert len(doc.warnings) == 1
    assert "2" in doc.warnings[0]
    assert "1" not in doc.warnings[0]


def test_pdf_title_absent_from_metadata_is_none() -> None:
    assert parse_document(build_pdf(["本文があります"]), "a.pdf").title is None


def test_pdf_lines_wrapped_by_layout_are_rejoined_without_spaces_in_japanese() -> None:
    # The builder lays out 40 characters a line: the first line ends a sentence, the next
    # sentence wraps in the middle.
    first = "あ" * 39 + "。"
    second = "い" * 50 + "う" * 10
    doc = parse_document(build_pdf([first + second]), "wrap.pdf")
    assert texts(doc) == [first + "\n" + second]


def test_pdf_latin_lines_are_joined_with_a_space() -> None:
    doc = parse_document(build_pdf(["first line\nsecond line"]), "latin.pdf")
    assert texts(doc) == ["first line second line"]


def test_pdf_header_after_leading_junk_is_still_found() -> None:
    doc = parse_document(b"x" * 400 + build_pdf(["前置きのある文書"]), "prefixed.pdf")
    assert texts(doc) == ["前置きのある文書"]


# --- DOCX --------------------------------------------------------------------------------


def test_docx_headings_have_levels_and_paragraphs_follow_in_order() -> None:
    data = build_docx(
        [
            ("Title", "就業規則"),
            ("Heading 1", "第1章 総則"),
            ("Normal", "この規則は従業員の労働条件を定める。"),
            ("Heading 2", "第1節 目的"),
            ("Normal", "目的は次のとおり。"),
            ("Heading 3", "第1項 適用範囲"),
            ("Normal", ""),
            ("Normal", "全従業員に適用する。"),
        ],
        title="就業規則 2024年版",
    )
    doc = parse_document(data, "rules.docx")
    assert doc.title == "就業規則 2024年版"
    assert doc.blocks == [
        Block("就業規則", kind="heading", level=1),
        Block("第1章 総則", kind="heading", level=1),
        Block("この規則は従業員の労働条件を定める。"),
        Block("第1節 目的", kind="heading", level=2),
        Block("目的は次のとおり。"),
        Block("第1項 適用範囲", kind="heading", level=3),
        Block("全従業員に適用する。"),
    ]


def test_docx_without_core_title_has_no_title() -> None:
    doc = parse_document(build_docx([("Normal", "本文のみ")]), "a.docx")
    assert doc.title is None
    assert texts(doc) == ["本文のみ"]


def test_docx_table_is_a_table_block_with_one_row_per_line() -> None:
    data = build_docx([("Normal", "担当表"), ("table", "氏名|部署;山田|総務;佐藤|経理")])
    doc = parse_document(data, "table.docx")
    assert doc.blocks == [
        Block("担当表"),
        Block("氏名 | 部署\n山田 | 総務\n佐藤 | 経理", kind="table"),
    ]


def test_docx_merged_cell_appears_once() -> None:
    document = docx.Document()
    table = document.add_table(rows=2, cols=3)
    table.cell(0, 0).text = "区分"
    table.cell(0, 1).merge(table.cell(0, 2)).text = "実績"
    for c, text in enumerate(["売上", "100", "200"]):
        table.cell(1, c).text = text
    out = io.BytesIO()
    document.save(out)
    doc = parse_document(out.getvalue(), "merged.docx")
    assert texts(doc) == ["区分 | 実績\n売上 | 100 | 200"]


def test_docx_adjacent_cells_with_equal_text_are_all_kept() -> None:
    data = build_docx([("table", "項目|4月|5月;確認|○|○;件数|0|0")])
    doc = parse_document(data, "checks.docx")
    assert texts(doc) == ["項目 | 4月 | 5月\n確認 | ○ | ○\n件数 | 0 | 0"]


# --- XLSX --------------------------------------------------------------------------------


def test_xlsx_each_sheet_is_a_named_table_on_its_own_page() -> None:
    data = build_xlsx(
        {
            "売上": [["月", "金額"], ["1月", 100], ["2月", 250.0], ["3月", 12.5]],
            "担当": [["氏名"], ["山田"]],
        }
    )
    doc = parse_document(data, "book.xlsx")
    assert doc.pages == 2
    assert doc.blocks == [
        Block("売上", page=1, kind="heading", level=1),
        Block("月 | 金額\n1月 | 100\n2月 | 250\n3月 | 12.5", page=1, kind="table"),
        Block("担当", page=2, kind="heading", level=1),
        Block("氏名\n山田", page=2, kind="table"),
    ]
    assert doc.warnings == []


def test_xlsx_sheet_beyond_the_cell_limit_is_cut_with_a_warning() -> None:
    data = build_xlsx({"明細": [[i, i * 2, i * 3] for i in range(100)]})
    doc = parse_document(data, "big.xlsx", ParseLimits(max_cells_per_sheet=30))
    (table,) = [b for b in doc.blocks if b.kind == "table"]
    assert table.text.split("\n") == [f"{i} | {i * 2} | {i * 3}" for i in range(10)]
    assert len(doc.warnings) == 1
    assert "明細" in doc.warnings[0]


# --- PPTX --------------------------------------------------------------------------------


def test_pptx_slides_are_pages_with_title_headings_and_bullets() -> None:
    data = build_pptx([("会議資料", ["議題一", "議題二"]), ("まとめ", ["次回は来週"])])
    doc = parse_document(data, "deck.pptx")
    assert doc.title == "会議資料"
    assert doc.pages == 2
    assert doc.blocks == [
        Block("会議資料", page=1, kind="heading", level=1),
        Block("議題一", page=1),
        Block("議題二", page=1),
        Block("まとめ", page=2, kind="heading", level=1),
        Block("次回は来週", page=2),
    ]


def test_pptx_tables_and_speaker_notes_are_read() -> None:
    presentation = pptx.Presentation()
    slide = presentation.slides.add_slide(presentation.slide_layouts[6])  # blank
    box = slide.shapes.add_textbox(Inches(1), Inches(1), Inches(4), Inches(1))
    box.text_frame.text = "四半期の実績"
    table = slide.shapes.add_table(2, 2, Inches(1), Inches(3), Inches(4), Inches(1)).table
    for (r, c), text in {(0, 0): "項目", (0, 1): "値", (1, 0): "売上", (1, 1): "100"}.items():
        table.cell(r, c).text = text
    slide.notes_slide.notes_text_frame.text = "発表者メモ：前年比を補足する"
    doc = parse_document(saved(presentation), "notes.pptx")
    assert doc.title is None
    assert doc.blocks == [
        Block("四半期の実績", page=1),
        Block("項目 | 値\n売上 | 100", page=1, kind="table"),
        Block("発表者メモ：前年比を補足する", page=1),
    ]


def test_pptx_text_inside_grouped_shapes_is_read() -> None:
    presentation = pptx.Presentation()
    slide = presentation.slides.add_slide(presentation.slide_layouts[6])
    group = slide.shapes.add_group_shape()
    box = group.shapes.add_textbox(Inches(1), Inches(1), Inches(4), Inches(1))
    box.text_frame.text = "グループ化した図の説明"
    doc = parse_document(saved(presentation), "group.pptx")
    assert any("グループ化した図の説明" in b.text for b in doc.blocks)


def test_pptx_line_break_inside_a_paragraph_separates_words() -> None:
    presentation = pptx.Presentation()
    slide = presentation.slides.add_slide(presentation.slide_layouts[1])
    slide.shapes.title.text = "Agenda"
    slide.placeholders[1].text_frame.text = "first line\vsecond line"
    doc = parse_document(saved(presentation), "br.pptx")
    body = [b.text for b in doc.blocks if b.kind == "paragraph"]
    assert [re.split(r"\s+", text) for text in body] == [["first", "line", "second", "line"]]


# --- HTML --------------------------------------------------------------------------------

PAGE = """<!DOCTYPE html>
<html><head>
<title>社内ポータル &amp; お知らせ</title>
<style>.secret-style { color: red }</style>
<script>var token = "SCRIPT-IN-HEAD";</script>
</head><body>
<nav><a href="/">NAV-MENU</a></nav>
<h1>お知らせ</h1>
<p>システムメンテナンスを実施します。</p>
<!-- COMMENT-TEXT -->
<h2>日時</h2><p>3月1日 22時から</p>
<h3>対象</h3>
<ul><li>勤怠システム</li><li>経費精算</li></ul>
<SCRIPT type="text/javascript">document.write("SCRIPT-UPPER");</SCRIPT>
<noscript>NOSCRIPT-TEXT</noscript>
<table><tr><th>部署</th><th>担当</th></tr><tr><td>総務</td><td>山田</td></tr></table>
<style>p { STYLE-IN-BODY: 1 }</style>
</body></html>
"""


def test_html_title_headings_lists_and_tables() -> None:
    doc = parse_document(PAGE.encode(), "notice.html")
    assert doc.title == "社内ポータル & お知らせ"
    assert doc.blocks == [
        Block("お知らせ", kind="heading", level=1),
        Block("システムメンテナンスを実施します。"),
        Block("日時", kind="heading", level=2),
        Block("3月1日 22時から"),
        Block("対象", kind="heading", level=3),
        Block("勤怠システム"),
        Block("経費精算"),
        Block("部署 | 担当\n総務 | 山田", kind="table"),
    ]


@pytest.mark.parametrize(
    "marker",
    [
        "SCRIPT-IN-HEAD",
        "secret-style",
        "NAV-MENU",
        "COMMENT-TEXT",
        "SCRIPT-UPPER",
        "NOSCRIPT-TEXT",
        "STYLE-IN-BODY",
    ],
)
def test_html_scripts_styles_navigation_and_comments_are_never_extracted(marker: str) -> None:
    doc = parse_document(PAGE.encode(), "notice.htm")
    assert all(marker not in b.text for b in doc.blocks)
    assert marker not in (doc.title or "")


def test_html_declared_charset_is_used() -> None:
    data = '<meta charset="Shift_JIS"><title>議事録</title><p>出席者は五名。</p>'.encode("cp932")
    doc = parse_document(data, "minutes.html")
    assert doc.title == "議事録"
    assert texts(doc) == ["出席者は五名。"]


def test_html_utf8_bom_with_declared_charset_leaves_no_stray_block() -> None:
    page = '<html><head><meta charset="utf-8"><title>題名</title></head><p>本文</p></html>'
    doc = parse_document(page.encode("utf-8-sig"), "bom.html")
    assert doc.title == "題名"
    assert texts(doc) == ["本文"]


def test_html_empty_leading_cell_keeps_columns_aligned() -> None:
    data = b"<table><tr><th></th><th>Q1</th></tr><tr><th>Sales</th><td>100</td></tr></table>"
    (table,) = parse_document(data, "grid.html").blocks
    assert [len(line.split("|")) for line in table.text.split("\n")] == [2, 2]


def test_html_table_with_omitted_end_tags_and_the_text_after_it_are_kept() -> None:
    # </td> and </tr> are optional in HTML, and older generators leave them out.
    data = "<table><tr><th>部署<th>担当<tr><td>総務<td>山田</table><p>以上</p>".encode()
    assert parse_document(data, "legacy.html").blocks == [
        Block("部署 | 担当\n総務 | 山田", kind="table"),
        Block("以上"),
    ]


# --- Markdown ----------------------------------------------------------------------------


def test_markdown_headings_have_levels_and_the_first_h1_is_the_title() -> None:
    source = "\n".join(
        [
            "前書きの段落。",
            "",
            "# 運用手順書",
            "",
            "概要の段落。",
            "二行目。",
            "",
            "## 準備 ##",
            "### 確認事項",
            "```",
            "# コードの中は見出しではない",
            "```",
            "#ハッシュタグ",
            "# 別の大見出し",
        ]
    )
    doc = parse_document(source.encode(), "manual.md")
    assert doc.title == "運用手順書"
    assert doc.blocks == [
        Block("前書きの段落。"),
        Block("運用手順書", kind="heading", level=1),
        Block("概要の段落。\n二行目。"),
        Block("準備", kind="heading", level=2),
        Block("確認事項", kind="heading", level=3),
        Block("# コードの中は見出しではない\n#ハッシュタグ"),
        Block("別の大見出し", kind="heading", level=1),
    ]


def test_markdown_long_suffix_is_accepted() -> None:
    doc = parse_document("###### 六段目\n".encode(), "deep.markdown")
    assert doc.blocks == [Block("六段目", kind="heading", level=6)]


def test_markdown_heading_ending_in_a_hash_that_is_not_a_closing_sequence() -> None:
    doc = parse_document("# 言語: C#\n".encode(), "lang.md")
    assert doc.title == "言語: C#"


@pytest.mark.timeout(60)
def test_markdown_long_heading_line_parses_quickly() -> None:
    # Through a pool with a short time limit: parsing it in this process would hang the test.
    line = "# 見出し" + " " * 6000 + "x"
    with ParserPool(ParseLimits(timeout_seconds=2.0)) as pool:
        doc = pool.parse(line.encode(), "hostile.md")
    assert doc.blocks[0].kind == "heading"


# --- Text --------------------------------------------------------------------------------

JAPANESE = "株式会社髙島屋 ①第一四半期の報告\n売上は前年比～5%増。\n\n次の段落です。"
PARAGRAPHS = ["株式会社髙島屋 ①第一四半期の報告\n売上は前年比～5%増。", "次の段落です。"]


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(JAPANESE.encode("utf-8"), id="utf-8"),
        pytest.param(JAPANESE.encode("utf-8-sig"), id="utf-8-bom"),
        pytest.param(cp932_text(JAPANESE), id="cp932"),
        pytest.param(JAPANESE.encode("utf-16"), id="utf-16-bom"),
        pytest.param(cp932_text(JAPANESE.replace("\n", "\r\n")), id="cp932-crlf"),
    ],
)
def test_text_in_japanese_office_encodings_is_decoded(data: bytes) -> None:
    doc = parse_document(data, "memo.txt")
    assert doc.title is None
    assert texts(doc) == PARAGRAPHS
    assert all(b.page is None for b in doc.blocks)


def test_text_in_shift_jis_is_decoded() -> None:
    text = "本日の会議は中止します。"
    assert texts(parse_document(text.encode("shift_jis"), "notice.txt")) == [text]


@pytest.mark.parametrize(
    "text",
    [
        "これはテストです。日本語の文章をEUC-JPで保存しました。",
        # Kana-heavy EUC-JP also decodes as CP932 (as half-width katakana): the reading that
        # looks like Japanese must win.
        "会議の議事録を送ります。よろしくお願いします。",
        "お世話になっております。",
    ],
)
def test_text_in_euc_jp_is_decoded(text: str) -> None:
    assert texts(parse_document(text.encode("euc-jp"), "old.txt")) == [text]


def test_text_in_cp932_with_half_width_katakana_stays_cp932() -> None:
    text = "口座名義 ﾔﾏﾀﾞ ﾀﾛｳ\n振込金額 10000"
    assert texts(parse_document(cp932_text(text), "transfer.txt")) == [text]


@pytest.mark.parametrize("encoding", ["utf-8-sig", "utf-16"])
def test_text_with_bom_and_windows_line_ends_keeps_paragraphs(encoding: str) -> None:
    data = "一行目\r\n二行目\r\n\r\n次の段落\r\n".encode(encoding)
    assert texts(parse_document(data, "notepad.txt")) == ["一行目\n二行目", "次の段落"]


# --- CSV ---------------------------------------------------------------------------------


def test_csv_is_a_table_whose_first_line_is_the_header() -> None:
    data = '氏名,部署,内線\n山田,総務,"1,001"\n佐藤,経理,1002\n'.encode()
    assert parse_document(data, "staff.csv").blocks == [
        Block("氏名 | 部署 | 内線\n山田 | 総務 | 1,001\n佐藤 | 経理 | 1002", kind="table")
    ]


def test_csv_tab_separated_in_cp932() -> None:
    data = cp932_text("氏名\t部署\n山田\t総務\n")
    assert texts(parse_document(data, "staff.csv")) == ["氏名 | 部署\n山田 | 総務"]


def test_csv_long_table_repeats_its_header_in_every_block() -> None:
    rows = [f"{i},品目{i}" for i in range(ROWS_PER_BLOCK * 2 + 3)]
    data = ("番号,品名\n" + "\n".join(rows)).encode()
    doc = parse_document(data, "items.csv")
    assert [b.kind for b in doc.blocks] == ["table"] * 3
    for block in doc.blocks:
        assert block.text.split("\n")[0] == "番号 | 品名"
    body = [line for b in doc.blocks for line in b.text.split("\n")[1:]]
    assert body == [f"{i} | 品目{i}" for i in range(ROWS_PER_BLOCK * 2 + 3)]


# --- Content against suffix --------------------------------------------------------------


@pytest.mark.parametrize(
    ("data", "filename"),
    [
        pytest.param(build_pdf(["本物のPDF"]), "renamed.docx", id="pdf-as-docx"),
        pytest.param(build_pdf(["本物のPDF"]), "renamed.txt", id="pdf-as-txt"),
        pytest.param(build_pdf(["本物のPDF"]), "renamed.html", id="pdf-as-html"),
        pytest.param(build_docx([("Normal", "文書")]), "renamed.pdf", id="docx-as-pdf"),
        pytest.param(build_docx([("Normal", "文書")]), "renamed.md", id="docx-as-md"),
        pytest.param(build_xlsx({"S": [["a"]]}), "renamed.docx", id="xlsx-as-docx"),
        pytest.param(build_docx([("Normal", "文書")]), "renamed.pptx", id="docx-as-pptx"),
        pytest.param(b"plain words", "renamed.pdf", id="text-as-pdf"),
        pytest.param(b"plain words", "renamed.xlsx", id="text-as-xlsx"),
        pytest.param(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + b"\x00" * 64, "image.txt", id="png"),
        pytest.param(b"MZ\x90\x00\x03\x00\x00\x00\x04\x00", "program.csv", id="exe-as-csv"),
    ],
)
def test_content_that_contradicts_the_suffix_is_refused_as_corrupt(
    data: bytes, filename: str
) -> None:
    assert rejection(data, filename) == "corrupt_file"


def test_suffix_is_matched_case_insensitively() -> None:
    doc = parse_document(build_pdf(["大文字の拡張子"]), "SCAN_0001.PDF")
    assert texts(doc) == ["大文字の拡張子"]
