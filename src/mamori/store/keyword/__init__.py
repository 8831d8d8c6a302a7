"""The keyword index: BM25 over pre-tokenised chunk text, one backend per database.

The caller tokenises (``mamori.rag.tokenizer``) and hands over terms; this package only
stores and ranks them, so documents and queries can never be analysed differently.

- SQLite: an FTS5 table whose columns hold the terms joined by spaces; FTS5's own ``bm25()``.
- PostgreSQL: a postings table (term, knowledge base, chunk, weighted term frequency, chunk
  length) with per-term document frequencies and global counts; the same BM25 formula as
  FTS5's, computed in SQL, so both backends rank alike (tests compare them).

Both rank with the same column weights: a term in the title counts ``TITLE_WEIGHT`` times, in
the heading path ``HEADINGS_WEIGHT`` times, in the body once. Both restrict a search to the
knowledge bases given, inside the ranking query: a chunk of another knowledge base is never
read, not read and then dropped.

Neither backend's tables are in ``mamori.store.tables``: their DDL is backend-specific and
lives in migration 0006; ``UNMANAGED_TABLES`` tells the schema comparison to leave them be.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import Connection

TITLE_WEIGHT = 2.0
HEADINGS_WEIGHT = 1.5
BODY_WEIGHT = 1.0
# FTS5's constants, which it does not let us change; the PostgreSQL backend uses the same.
K1 = 1.2
B = 0.75

UNMANAGED_TABLES = frozenset(
    {
        "kb_fts",
        "kb_fts_data",
        "kb_fts_idx",
        "kb_fts_content",
        "kb_fts_docsize",
        "kb_fts_config",
        "kb_fts_vocab",
        "kb_kw_postings",
        "kb_kw_terms",
        "kb_kw_stats",
    }
)


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


class KeywordBackend(Protocol):
    """What each backend module provides (a module satisfies this protocol)."""

    def add(self, conn: Connection, entries: Sequence[IndexEntry]) -> None: ...

    def remove(self, conn: Connection, chunk_ids: Sequence[int]) -> None: ...

    def search(
        self, conn: Connection, terms: list[str], *, kb_ids: Sequence[str], limit: int
    ) -> list[Ranked]: ...


def add(conn: Connection, entries: Sequence[IndexEntry]) -> None:
    if entries:
        _backend(conn).add(conn, entries)


def remove(conn: Connection, chunk_ids: Sequence[int]) -> None:
    if chunk_ids:
        _backend(conn).remove(conn, chunk_ids)


def search(
    conn: Connection, terms: Sequence[str], *, kb_ids: Sequence[str], limit: int
) -> list[Ranked]:
    """The best ``limit`` chunks of the given knowledge bases for any of ``terms``."""
    if not terms or not kb_ids or limit <= 0:
        return []
    return _backend(conn).search(conn, list(dict.fromkeys(terms)), kb_ids=kb_ids, limit=limit)


def _backend(conn: Connection) -> KeywordBackend:
    # Imported here: each backend module imports this one for its data types.
    if conn.dialect.name == "postgresql":
        from mamori.store.keyword import postgres_bm25

        return postgres_bm25
    from mamori.store.keyword import sqlite_fts

    return sqlite_fts
