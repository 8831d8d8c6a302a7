from __future__ import annotations

import itertools

from mamori.domain.documents import Block, ParsedDocument
from mamori.rag.chunking import ChunkingOptions, chunk_document, split_sentences


def test_sentences_end_at_japanese_terminators_with_their_closing_brackets() -> None:
    text = "申請は窓口で受け付けます。「本人確認書類が必要です。」郵送も可能ですか？はい！\n次の行"
    assert split_sentences(text) == [
        "申請は窓口で受け付けます。",
        "「本人確認書類が必要です。」",
        "郵送も可能ですか？",
        "はい！",
        "次の行",
    ]


def test_heading_paths_follow_levels() -> None:
    doc = ParsedDocument(
        title="例規集",
        blocks=[
            Block("第1章 総則", kind="heading", level=1),
            Block("この規則は目的を定める。", page=1),
            Block("第1節 定義", kind="heading", level=2),
            Block("用語の意義は次のとおり。", page=1),
            Block("第2章 手続", kind="heading", level=1),
            Block("申請書を提出する。", page=2),
        ],
    )
    chunks = chunk_document(doc)
    assert [(c.heading_path, c.page, c.text) for c in chunks] == [
        (("第1章 総則",), 1, "この規則は目的を定める。"),
        (("第1章 総則", "第1節 定義"), 1, "用語の意義は次のとおり。"),
        (("第2章 手続",), 2, "申請書を提出する。"),
    ]
    assert [c.ordinal for c in chunks] == [0, 1, 2]
    assert chunks[1].headings == "第1章 総則 > 第1節 定義"


def test_a_chunk_never_spans_two_pages() -> None:
    doc = ParsedDocument(title=None, blocks=[Block("一頁目。", page=1), Block("二頁目。", page=2)])
    assert [(c.page, c.text) for c in chunk_document(doc)] == [(1, "一頁目。"), (2, "二頁目。")]


def test_long_sections_split_on_sentences_with_overlap() -> None:
    sentences = [f"これは{i:03d}番目の文であり、内容を説明します。" for i in range(60)]
    doc = ParsedDocument(title=None, blocks=[Block("".join(sentences), page=3)])
    options = ChunkingOptions(max_chars=200, overlap_chars=60)
    chunks = chunk_document(doc, options)
    assert len(chunks) > 5
    for chunk in chunks:
        assert len(chunk.text) <= 200
        assert chunk.text.endswith("。")  # whole sentences only
        assert chunk.page == 3
    for before, after in itertools.pairwise(chunks):
        # The next chunk starts with the previous one's last sentences, within the budget.
        shared = [x for x in split_sentences(after.text) if x in split_sentences(before.text)]
        assert shared
        assert before.text.endswith("".join(shared))
        assert after.text.startswith("".join(shared))
        assert len("".join(shared)) <= 60
    # Every sentence is in some chunk.
    joined = "".join(c.text for c in chunks)
    assert all(s in joined for s in sentences)


def test_an_overlong_sentence_is_cut_to_the_limit() -> None:
    doc = ParsedDocument(title=None, blocks=[Block("あ" * 450)])
    chunks = chunk_document(doc, ChunkingOptions(max_chars=200, overlap_chars=0))
    assert [len(c.text) for c in chunks] == [200, 200, 50]


def test_table_rows_stay_whole_lines() -> None:
    rows = "\n".join(f"品目{i} | {i * 100}円" for i in range(5))
    doc = ParsedDocument(title=None, blocks=[Block(rows, page=1, kind="table")])
    (chunk,) = chunk_document(doc)
    assert chunk.text.splitlines() == rows.splitlines()


def test_latin_sentences_keep_a_space_between_them() -> None:
    doc = ParsedDocument(title=None, blocks=[Block("First point.\nSecond point.")])
    assert chunk_document(doc)[0].text == "First point. Second point."


def test_empty_blocks_make_no_chunks() -> None:
    doc = ParsedDocument(
        title=None, blocks=[Block("   "), Block("見出し", kind="heading", level=1)]
    )
    assert chunk_document(doc) == []
