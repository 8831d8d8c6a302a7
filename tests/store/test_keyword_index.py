"""The keyword index ranks as FTS5's bm25() does, on both backends, reads only the knowledge
bases it is given, and counts its statistics over those alone."""

from __future__ import annotations

import math
import random
from collections import Counter
from collections.abc import Sequence

import pytest
from sqlalchemy import text

from mamori.domain.classification import Classification
from mamori.store import Database, keyword
from mamori.store.database import Connection
from mamori.store.keyword import IndexEntry
from mamori.store.repos import kb_documents, knowledge_bases
from mamori.store.repos.groups import create_group
from mamori.store.repos.kb_documents import NewChunk

# (title, headings, body) per chunk, as terms.
CORPUS = [
    (["介護", "保険"], ["申請"], ["要介護", "認定", "申請", "窓口", "提出"]),
    (["介護", "保険"], ["給付"], ["サービス", "利用", "負担", "割合", "一", "割"]),
    (["国民", "健康", "保険"], [], ["保険料", "納付", "口座", "振替", "申請"]),
    (["住民", "票"], ["交付"], ["住民", "票", "写し", "交付", "窓口", "本人", "確認"]),
    (["戸籍"], ["証明"], ["戸籍", "謄本", "交付", "郵送", "請求", "申請"]),
    (["税"], ["住民", "税"], ["住民", "税", "納付", "期限", "延滞", "金"]),
]


@pytest.fixture(scope="module")
def indexed(fresh_db: Database) -> tuple[Database, str, str, list[int]]:
    """Two knowledge bases: the corpus in the first, a copy of chunk 0 in the second."""

    def setup(conn: Connection) -> tuple[str, str, list[int]]:
        group = create_group(conn, name="kw-owner")
        first = knowledge_bases.create_kb(
            conn, name="kw-a", owner_group_id=group.id, classification=Classification.C1
        )
        second = knowledge_bases.create_kb(
            conn, name="kw-b", owner_group_id=group.id, classification=Classification.C1
        )
        ids = _add(conn, first.id, "a.txt", CORPUS)
        ids += _add(conn, second.id, "b.txt", CORPUS[:1])
        return first.id, second.id, ids

    first, second, ids = fresh_db.write_sync(setup)
    return fresh_db, first, second, ids


def _add(
    conn: Connection, kb_id: str, name: str, rows: Sequence[tuple[list[str], ...]]
) -> list[int]:
    document = kb_documents.upsert_document(
        conn, kb_id=kb_id, filename=name, content_hash="0" * 64, size_bytes=1, created_by=None
    )
    chunks = [
        NewChunk(ordinal=i, text=" ".join(r[2]), page=1, headings="") for i, r in enumerate(rows)
    ]
    _, ids = kb_documents.replace_chunks(
        conn, document.id, kb_id=kb_id, title=name, pages=1, chunks=chunks
    )
    keyword.add(conn, [IndexEntry(i, kb_id, *row) for i, row in zip(ids, rows, strict=True)])
    return ids


def _reference(query: list[str], rows: Sequence[tuple[list[str], ...]]) -> list[float]:
    """FTS5's bm25() as documented, with mamori's column weights, for every row."""
    weights = (keyword.TITLE_WEIGHT, keyword.HEADINGS_WEIGHT, keyword.BODY_WEIGHT)
    n = len(rows)
    lengths = [sum(len(col) for col in row) for row in rows]
    avgdl = sum(lengths) / n
    df = {t: sum(1 for r in rows if any(t in col for col in r)) for t in dict.fromkeys(query)}
    scores = []
    for row, length in zip(rows, lengths, strict=True):
        score = 0.0
        for term in df:
            if df[term] == 0 or not any(term in col for col in row):
                continue
            idf = max(math.log((n - df[term] + 0.5) / (df[term] + 0.5)), 1e-6)
            tf = sum(w * Counter(col)[term] for w, col in zip(weights, row, strict=True))
            norm = keyword.K1 * (1 - keyword.B + keyword.B * length / avgdl)
            score += idf * tf * (keyword.K1 + 1) / (tf + norm)
        scores.append(score)
    return scores


def _search(
    db: Database, terms: list[str], kb_ids: list[str], limit: int = 10
) -> list[keyword.Ranked]:
    return db.read_sync(keyword.search, terms, kb_ids=kb_ids, limit=limit)


def test_scores_are_fts5_bm25_with_column_weights(
    indexed: tuple[Database, str, str, list[int]],
) -> None:
    db, first, second, ids = indexed
    rows = [*CORPUS, CORPUS[0]]
    query = ["住民", "票", "交付"]
    expected = _reference(query, rows)
    found = _search(db, query, [first, second])
    matching = [i for i, row in enumerate(rows) if any(t in col for t in query for col in row)]
    by_reference = sorted(matching, key=lambda i: -expected[i])
    assert [r.chunk_id for r in found] == [ids[i] for i in by_reference]
    assert len(found) == 3
    for ranked in found:
        assert ranked.score == pytest.approx(expected[ids.index(ranked.chunk_id)], rel=1e-4)


def test_a_title_term_outweighs_the_same_term_in_the_body(
    indexed: tuple[Database, str, str, list[int]],
) -> None:
    db, first, _, ids = indexed
    found = _search(db, ["戸籍"], [first])
    assert [r.chunk_id for r in found] == [ids[4]]
    # 介護 is in two titles, 認定 in one body: the title match ranks the chunks that have both.
    found = _search(db, ["介護", "認定"], [first])
    assert found[0].chunk_id == ids[0]


def test_only_the_given_knowledge_bases_are_read(
    indexed: tuple[Database, str, str, list[int]],
) -> None:
    db, first, second, ids = indexed
    in_second = _search(db, ["要介護", "認定"], [second])
    assert [r.chunk_id for r in in_second] == [ids[6]]
    in_first = _search(db, ["要介護", "認定"], [first])
    assert [r.chunk_id for r in in_first] == [ids[0]]
    assert _search(db, ["要介護"], []) == []


def test_terms_in_more_than_half_the_chunks_are_left_out_unless_alone(
    indexed: tuple[Database, str, str, list[int]],
) -> None:
    db, first, second, ids = indexed
    # 申請 is in 4 of 7 chunks: with 郵送 beside it, only 郵送 decides.
    found = _search(db, ["申請", "郵送"], [first, second])
    assert [r.chunk_id for r in found] == [ids[4]]
    alone = _search(db, ["申請"], [first, second])
    assert {r.chunk_id for r in alone} == {ids[0], ids[2], ids[4], ids[6]}


def test_query_syntax_is_matched_as_text(indexed: tuple[Database, str, str, list[int]]) -> None:
    db, first, _, _ = indexed
    for hostile in [
        '"',
        "NEAR(a b)",
        "title:x",
        "*",
        "AND",
        "a OR b",
        "'); DROP TABLE kb_chunks;--",
    ]:
        assert _search(db, [hostile], [first]) == []


def test_removed_chunks_leave_search_and_statistics(
    indexed: tuple[Database, str, str, list[int]],
) -> None:
    db, first, second, _ = indexed
    query = ["住民", "票", "交付"]
    extra: list[int] = []

    def add(conn: Connection) -> None:
        extra.extend(_add(conn, first, "t.txt", [(["住民"], [], ["住民", "票", "交付"])] * 3))

    before = _search(db, query, [first, second])
    db.write_sync(add)
    added = _search(db, query, [first, second])
    assert set(extra) <= {r.chunk_id for r in added}
    db.write_sync(lambda conn: keyword.remove(conn, extra))
    after = _search(db, query, [first, second])
    assert [(r.chunk_id, round(r.score, 9)) for r in after] == [
        (r.chunk_id, round(r.score, 9)) for r in before
    ]


def test_other_knowledge_bases_change_neither_results_nor_scores(
    indexed: tuple[Database, str, str, list[int]],
) -> None:
    db, first, _, _ = indexed
    query = ["住民", "票", "交付", "戸籍"]
    before = _search(db, query, [first])

    def other_group(conn: Connection) -> str:
        group = create_group(conn, name="kw-other")
        kb = knowledge_bases.create_kb(
            conn, name="kw-other", owner_group_id=group.id, classification=Classification.C1
        )
        # Many chunks of the query's terms: under table-wide statistics their IDF would drop.
        _add(conn, kb.id, "o.txt", [(["住民"], ["戸籍"], ["住民", "票", "交付", "戸籍"])] * 20)
        return kb.id

    other = db.write_sync(other_group)
    assert [(r.chunk_id, r.score) for r in _search(db, query, [first])] == [
        (r.chunk_id, r.score) for r in before
    ]
    # Searched together, the statistics are both knowledge bases', and the scores change.
    both = {r.chunk_id: r.score for r in _search(db, query, [first, other], limit=50)}
    assert len(both) == len(before) + 20
    assert all(both[r.chunk_id] != pytest.approx(r.score) for r in before)
    db.write_sync(lambda conn: keyword.remove_kb(conn, other))
    assert _search(db, query, [other]) == []
    left = db.read_sync(
        lambda conn: conn.exec_driver_sql(
            "SELECT COUNT(*) FROM kb_kw_postings "
            "WHERE kb_key NOT IN (SELECT kb_key FROM kb_kw_bases)"
        ).scalar_one()
    )
    assert left == 0  # no posting outlives its knowledge base


def test_removing_chunks_from_a_shared_block_keeps_their_neighbours(
    fresh_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two documents' chunks packed in the same blocks; one leaves, from the middle."""
    # One block for all six, whatever ids they get (the large test below spans blocks).
    monkeypatch.setattr(keyword.postings, "BLOCK", 1 << 30)
    rows: list[tuple[list[str], list[str], list[str]]] = [
        (["窓口"], [], ["窓口", "受付", f"語{i}"]) for i in range(6)
    ]

    def setup(conn: Connection) -> tuple[str, list[int], list[int]]:
        group = create_group(conn, name="kw-blocks")
        kb = knowledge_bases.create_kb(
            conn, name="kw-blocks", owner_group_id=group.id, classification=Classification.C1
        )
        return kb.id, _add(conn, kb.id, "a.txt", rows[:3]), _add(conn, kb.id, "b.txt", rows[3:])

    kb_id, first, second = fresh_db.write_sync(setup)
    fresh_db.write_sync(lambda conn: keyword.remove(conn, [first[1]]))
    kept = [first[0], first[2], *second]
    kept_rows = [rows[0], rows[2], *rows[3:]]
    expected = _reference(["受付"], kept_rows)
    found = _search(fresh_db, ["受付"], [kb_id])
    assert [r.chunk_id for r in found] == sorted(kept)
    assert [r.score for r in found] == pytest.approx(
        [expected[kept.index(r.chunk_id)] for r in found], rel=1e-5
    )
    assert [r.chunk_id for r in _search(fresh_db, ["語4"], [kb_id])] == [kept[3]]
    assert _search(fresh_db, ["語1"], [kb_id]) == []
    fresh_db.write_sync(lambda conn: keyword.remove(conn, [*first, *second]))
    assert _search(fresh_db, ["受付"], [kb_id]) == []
    rows_left = fresh_db.read_sync(
        lambda conn: conn.execute(
            text(
                "SELECT COUNT(*) FROM kb_kw_postings p JOIN kb_kw_bases b "
                "ON p.kb_key = b.kb_key WHERE b.kb_id = :kb"
            ),
            {"kb": kb_id},
        ).scalar_one()
    )
    assert rows_left == 0  # emptied blocks are deleted, not left as empty rows


def test_a_large_knowledge_base_ranks_as_scoring_every_chunk(
    fresh_db: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Chunks over several blocks of postings (of 64 here), against the reference."""
    monkeypatch.setattr(keyword.postings, "BLOCK", 64)
    rng = random.Random(7)
    vocabulary = [f"語{i}" for i in range(300)]
    weights = [1 / (rank + 1) for rank in range(len(vocabulary))]
    rows: list[tuple[list[str], list[str], list[str]]] = [
        (rng.choices(vocabulary, weights, k=2), [], rng.choices(vocabulary, weights, k=40))
        for _ in range(400)
    ]

    def setup(conn: Connection) -> tuple[str, list[int]]:
        group = create_group(conn, name="kw-large")
        kb = knowledge_bases.create_kb(
            conn, name="kw-large", owner_group_id=group.id, classification=Classification.C1
        )
        return kb.id, _add(conn, kb.id, "large.txt", rows)

    kb_id, ids = fresh_db.write_sync(setup)
    assert len({i // 64 for i in ids}) >= 6
    _assert_ranks_as_reference(fresh_db, kb_id, rows, ids, rng)
    # Every third chunk leaves, from every block: what is left still ranks as the reference.
    fresh_db.write_sync(lambda conn: keyword.remove(conn, ids[::3]))
    kept = [i for n, i in enumerate(ids) if n % 3]
    _assert_ranks_as_reference(fresh_db, kb_id, [r for n, r in enumerate(rows) if n % 3], kept, rng)


def _assert_ranks_as_reference(
    db: Database,
    kb_id: str,
    rows: Sequence[tuple[list[str], list[str], list[str]]],
    ids: list[int],
    rng: random.Random,
) -> None:
    vocabulary = sorted({t for row in rows for col in row for t in col}, key=lambda t: int(t[1:]))
    for _ in range(15):
        query = rng.sample(vocabulary[:120], 8)
        kept = [t for t in query if sum(any(t in c for c in r) for r in rows) <= len(rows) / 2]
        expected = _reference(kept or query, rows)
        found = _search(db, query, [kb_id], limit=10)
        best = sorted(
            (i for i in range(len(rows)) if expected[i] > 0), key=lambda i: (-expected[i], i)
        )[:10]
        assert [r.chunk_id for r in found] == [ids[i] for i in best]
        assert [r.score for r in found] == pytest.approx([expected[i] for i in best], rel=1e-5)
