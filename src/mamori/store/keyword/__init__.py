"""The keyword index: BM25 over pre-tokenised chunk text, the same on both databases.

The caller tokenises (``mamori.rag.tokenizer``) and hands over terms; this package only
stores and ranks them, so documents and queries can never be analysed differently.

- ``postings``: the tables, one design on SQLite and PostgreSQL (a term's postings packed in
  blocks per knowledge base; statistics per knowledge base).

Every chunk that shares an informative term with the query is scored, as arrays: a term's
postings arrive as a few hundred packed rows rather than a row each, so scoring all of them
costs less than any scheme for skipping some (MaxScore, tried first, still read the long
lists in its worst cases, docs/retrieval-tokenization.md). The result is thus exactly BM25's
ranking, with no approximation to argue about.

The score is the BM25 of FTS5's ``bm25()``, which the first version of this index used:
IDF ``ln((N - df + 0.5) / (df + 0.5))`` floored at 1e-6, the term frequency summed over the
columns with their weights (a title term counts ``TITLE_WEIGHT`` times, a heading term
``HEADINGS_WEIGHT`` times), the chunk length over all columns, k1 1.2 and b 0.75. N, df and
the average length are those of the knowledge bases searched, and only of those. FTS5 itself
was given up: its ``bm25()`` reads and scores every matching row one by one, 112 ms p50 and
215 ms p95 at 100,000 chunks (docs/retrieval-tokenization.md), and its statistics span the
whole table, every group's documents at once.

Terms in more than half of the chunks searched are left out unless no other term is left:
their IDF is the floor, so they cannot change the order, only add chunks that match nothing
else.

The tables are not in ``mamori.store.tables``: their DDL differs per backend (WITHOUT ROWID
on SQLite; a fillfactor on PostgreSQL, so that the appends stay on their page; blob or bytea)
and lives in migrations 0006 and 0007; ``UNMANAGED_TABLES`` tells the schema comparison to
leave them be.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from sqlalchemy import Connection, text

from mamori.store.keyword import postings

TITLE_WEIGHT = 2.0
HEADINGS_WEIGHT = 1.5
BODY_WEIGHT = 1.0
# FTS5's constants, kept when the index left FTS5 so that its ranking did not change.
K1 = 1.2
B = 0.75

UNMANAGED_TABLES = frozenset({"kb_kw_bases", "kb_kw_terms", "kb_kw_postings", "kb_kw_chunks"})


@dataclass(frozen=True, slots=True)
class IndexEntry:
    chunk_id: int
    kb_id: str
    title: Sequence[str]
    headings: Sequence[str]
    body: Sequence[str]


@dataclass(frozen=True, slots=True)
class Ranked:
    chunk_id: int
    score: float  # higher is better, on both backends


def add(conn: Connection, entries: Sequence[IndexEntry]) -> None:
    weighted = [w for w in map(_weighted, entries) if w.frequencies]
    if weighted:
        postings.add(conn, weighted)


def remove(conn: Connection, chunk_ids: Sequence[int]) -> None:
    if chunk_ids:
        postings.remove(conn, chunk_ids)


def remove_kb(conn: Connection, kb_id: str) -> None:
    postings.remove_kb(conn, kb_id)


def search(
    conn: Connection, terms: Sequence[str], *, kb_ids: Sequence[str], limit: int
) -> list[Ranked]:
    """The best ``limit`` chunks of the given knowledge bases for any of ``terms``."""
    if not terms or not kb_ids or limit <= 0:
        return []
    scope = postings.scope(conn, kb_ids)
    if scope.chunks <= 0:
        return []
    if conn.dialect.name == "postgresql":
        # A search is a few milliseconds of work; compiling it (JIT) would cost more.
        conn.execute(_NO_JIT)
    unique = list(dict.fromkeys(terms))
    frequencies = postings.document_frequencies(conn, unique, scope.keys)
    present = [t for t in unique if t in frequencies]
    informative = [t for t in present if frequencies[t] <= scope.chunks / 2]
    idf = {t: _idf(scope.chunks, frequencies[t]) for t in informative or present}
    if not idf:
        return []
    found = postings.postings(conn, list(idf), scope.keys)
    avgdl = scope.tokens / scope.chunks
    chunk_ids: list[npt.NDArray[np.int64]] = []
    scores: list[npt.NDArray[np.float64]] = []
    # One fixed order of terms, so that a chunk's score is summed in the same order, and is
    # the very same float, whatever order the database returned the rows in.
    for term in sorted(found, key=lambda t: (-idf[t], t)):
        p = found[term]
        norm = K1 * (1.0 - B + B * p.dl / avgdl)
        chunk_ids.append(p.chunk_ids)
        scores.append(idf[term] * p.tf * (K1 + 1.0) / (p.tf + norm))
    if not chunk_ids:
        return []
    return _best(np.concatenate(chunk_ids), np.concatenate(scores), limit)


def _best(
    chunk_ids: npt.NDArray[np.int64], scores: npt.NDArray[np.float64], limit: int
) -> list[Ranked]:
    """Sums each chunk's term scores and keeps the best, ties broken by chunk id."""
    low = int(chunk_ids.min())
    span = int(chunk_ids.max()) - low + 1
    if span <= max(4 * len(chunk_ids), 1 << 20):
        # Dense sums over the ids' range: no sort. Every term score is positive, so a
        # chunk with a sum matched a term.
        dense = np.bincount(chunk_ids - low, weights=scores, minlength=span)
        ids = np.flatnonzero(dense)
        totals = dense[ids]
        ids += low
    else:
        ids, inverse = np.unique(chunk_ids, return_inverse=True)
        totals = np.bincount(inverse, weights=scores)
    if len(ids) > limit:
        kth = np.partition(totals, len(totals) - limit)[len(totals) - limit]
        keep = np.flatnonzero(totals >= kth)
        ids, totals = ids[keep], totals[keep]
    order = np.lexsort((ids, -totals))[:limit]
    return [Ranked(chunk_id=int(ids[i]), score=float(totals[i])) for i in order]


_NO_JIT = text("SET LOCAL jit = off")


def _idf(chunks: int, df: int) -> float:
    return max(math.log((chunks - df + 0.5) / (df + 0.5)), 1e-6)


def _weighted(entry: IndexEntry) -> postings.Weighted:
    frequencies: dict[str, float] = {}
    for terms, weight in (
        (entry.title, TITLE_WEIGHT),
        (entry.headings, HEADINGS_WEIGHT),
        (entry.body, BODY_WEIGHT),
    ):
        for term in terms:
            frequencies[term] = frequencies.get(term, 0.0) + weight
    length = len(entry.title) + len(entry.headings) + len(entry.body)
    return postings.Weighted(entry.chunk_id, entry.kb_id, frequencies, length)
