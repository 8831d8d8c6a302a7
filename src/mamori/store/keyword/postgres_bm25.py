"""The keyword index on PostgreSQL: postings and BM25 in SQL, ranked as FTS5 ranks.

- ``kb_kw_postings``: one row per (term, knowledge base, chunk), holding the column-weighted
  term frequency and the chunk's length in terms. Its primary key starts with the term and the
  knowledge base and includes both numbers, so a search reads only index entries of the
  knowledge bases it may read.
- ``kb_kw_terms``: each term's document frequency.
- ``kb_kw_stats``: one row, the number of indexed chunks and of their terms.

The score is FTS5's ``bm25()``: IDF ``ln((N - df + 0.5) / (df + 0.5))`` floored at 1e-6, term
frequency summed over columns with their weights, the chunk length over all columns, k1 1.2
and b 0.75. Terms in more than half of all chunks are left out as on SQLite.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence

from sqlalchemy import Connection, text

from mamori.store.keyword import (
    BODY_WEIGHT,
    HEADINGS_WEIGHT,
    K1,
    TITLE_WEIGHT,
    B,
    IndexEntry,
    Ranked,
)

_INSERT_POSTING = text(
    "INSERT INTO kb_kw_postings (term, kb_id, chunk_id, tf, dl) VALUES (:term, :kb, :id, :tf, :dl)"
)
_ADD_DF = text(
    "INSERT INTO kb_kw_terms (term, df) VALUES (:term, :n) "
    "ON CONFLICT (term) DO UPDATE SET df = kb_kw_terms.df + EXCLUDED.df"
)
_SUB_DF = text("UPDATE kb_kw_terms SET df = df - :n WHERE term = :term")
_STATS = text("UPDATE kb_kw_stats SET chunks = chunks + :chunks, tokens = tokens + :tokens")
_REMOVED = text(
    "DELETE FROM kb_kw_postings WHERE chunk_id = ANY(:ids) RETURNING term, chunk_id, dl"
)
_DF = text(
    "SELECT t.term, t.df, s.chunks FROM kb_kw_terms t, kb_kw_stats s "
    "WHERE t.term = ANY(:terms) AND t.df > 0"
)
# Only module constants are formatted in; every value from outside is a bound parameter.
# The postings are read per query term through LATERAL, so that each term is one range scan of
# the primary key (term, kb_id), whatever the planner believes of the tables' sizes: a merge
# join over the whole index is what it picks on fresh or unanalysed tables otherwise
# (OFFSET 0 keeps the subquery from being flattened back into that join).
_SEARCH = text(
    f"""
    WITH s AS (SELECT chunks::float8 AS n, tokens::float8 / GREATEST(chunks, 1) AS avgdl
               FROM kb_kw_stats),
         q AS (SELECT t.term, GREATEST(LN((s.n - t.df + 0.5) / (t.df + 0.5)), 1e-6) AS idf
               FROM kb_kw_terms t, s WHERE t.term = ANY(:terms))
    SELECT p.chunk_id AS id,
           SUM(q.idf * p.tf * {K1 + 1.0}
               / (p.tf + {K1} * (1.0 - {B} + {B} * p.dl / s.avgdl))) AS score
    FROM q
    CROSS JOIN LATERAL (
        SELECT k.chunk_id, k.tf, k.dl FROM kb_kw_postings k
        WHERE k.term = q.term AND k.kb_id = ANY(:kb_ids)
        OFFSET 0
    ) p
    CROSS JOIN s
    GROUP BY p.chunk_id
    ORDER BY score DESC, p.chunk_id
    LIMIT :limit
    """  # noqa: S608
)
# A search is a few milliseconds of work; compiling it (JIT) would cost more than it saves.
_NO_JIT = text("SET LOCAL jit = off")


def add(conn: Connection, entries: Sequence[IndexEntry]) -> None:
    postings: list[dict[str, object]] = []
    document_frequency: Counter[str] = Counter()
    chunks = tokens = 0
    for entry in entries:
        weighted: dict[str, float] = {}
        for terms, weight in (
            (entry.title, TITLE_WEIGHT),
            (entry.headings, HEADINGS_WEIGHT),
            (entry.body, BODY_WEIGHT),
        ):
            for term in terms:
                weighted[term] = weighted.get(term, 0.0) + weight
        if not weighted:
            continue  # FTS5 is not given empty rows either, so N stays the same on both
        length = len(entry.title) + len(entry.headings) + len(entry.body)
        chunks += 1
        tokens += length
        document_frequency.update(weighted.keys())
        postings.extend(
            {"term": t, "kb": entry.kb_id, "id": entry.chunk_id, "tf": tf, "dl": length}
            for t, tf in weighted.items()
        )
    if not postings:
        return
    conn.execute(_INSERT_POSTING, postings)
    # Sorted, so that two writers upserting overlapping terms lock them in the same order.
    conn.execute(_ADD_DF, [{"term": t, "n": n} for t, n in sorted(document_frequency.items())])
    conn.execute(_STATS, {"chunks": chunks, "tokens": tokens})


def remove(conn: Connection, chunk_ids: Sequence[int]) -> None:
    removed = conn.execute(_REMOVED, {"ids": list(chunk_ids)}).all()
    if not removed:
        return
    lengths = {row.chunk_id: row.dl for row in removed}
    per_term = Counter(row.term for row in removed)
    conn.execute(_SUB_DF, [{"term": t, "n": n} for t, n in sorted(per_term.items())])
    conn.execute(_STATS, {"chunks": -len(lengths), "tokens": -sum(lengths.values())})


def search(
    conn: Connection, terms: list[str], *, kb_ids: Sequence[str], limit: int
) -> list[Ranked]:
    kept = _informative(conn, terms)
    if not kept:
        return []
    conn.execute(_NO_JIT)
    rows = conn.execute(_SEARCH, {"terms": kept, "kb_ids": list(kb_ids), "limit": limit})
    return [Ranked(chunk_id=row.id, score=float(row.score)) for row in rows]


def _informative(conn: Connection, terms: list[str]) -> list[str]:
    rows = conn.execute(_DF, {"terms": terms}).all()
    if not rows:
        return []
    total = rows[0].chunks
    frequencies = {row.term: row.df for row in rows}
    present = [t for t in terms if t in frequencies]
    informative = [t for t in present if frequencies[t] <= total / 2]
    return informative or present
