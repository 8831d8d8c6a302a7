"""The keyword index's tables, the same on SQLite and PostgreSQL.

- ``kb_kw_bases``: one row per knowledge base with chunks in the index: a small integer key
  (so the postings do not repeat a 36-character id), and the number of chunks and of their
  terms, from which a search takes N and the average length.
- ``kb_kw_terms``: each term's document frequency in each knowledge base.
- ``kb_kw_postings``: a term's postings in one knowledge base, one row per block of
  ``BLOCK`` consecutive chunk ids, packed as ``ENTRY`` records (the chunk's offset in the
  block, its column-weighted term frequency, its length). A term in half of 100,000 chunks
  is then some 100 rows and 500 kB, read in a few milliseconds and scored as arrays, where a
  row per posting made it 50,000 rows and a tenth of a second in Python. The primary key starts
  with the term and the knowledge base: a term's postings in the knowledge bases searched are
  one range of the index, and no other knowledge base's entry is read.
- ``kb_kw_chunks``: each indexed chunk's terms, so that removing a chunk finds its blocks by
  key instead of scanning.

Statistics are per knowledge base, and a search sums them over the knowledge bases it
searches only: what another group's documents contain changes neither what is found nor
its score, so scores cannot be used to probe documents one may not read.

Adding appends to a block in the database itself (``data || excluded.data``), so two writers
adding to one block never lose each other's entries. Removing rewrites the blocks it touches;
on PostgreSQL it locks them first (``FOR UPDATE``), since there writers run concurrently.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import orjson
from sqlalchemy import Connection, TextClause, bindparam, text

# Rows, not bytes, are what a search pays for (about 2 us each on SQLite): at 128 chunks a
# block, a query of 100,000 chunks read 10,800 rows in 20 ms; at 1,024, 2,200 rows in 5 ms.
# Larger blocks would cost more on every append, which rewrites its block (up to 10 kB).
BLOCK = 1024
ENTRY = np.dtype([("offset", "<u2"), ("tf", "<f4"), ("dl", "<u4")])
_TERMS_PER_QUERY = 500  # well under any bound-parameter limit


@dataclass(frozen=True, slots=True)
class Weighted:
    chunk_id: int
    kb_id: str
    frequencies: dict[str, float]  # term -> column-weighted frequency
    length: int


@dataclass(frozen=True, slots=True)
class Scope:
    """The knowledge bases a search reads, and their statistics summed."""

    keys: list[int]
    chunks: int
    tokens: int


@dataclass(frozen=True, slots=True)
class Postings:
    """One term's postings in the knowledge bases searched, as parallel arrays."""

    chunk_ids: npt.NDArray[np.int64]
    tf: npt.NDArray[np.float64]
    dl: npt.NDArray[np.float64]


_ADD_BASE = text(
    "INSERT INTO kb_kw_bases (kb_id, chunks, tokens) VALUES (:kb, 0, 0) "
    "ON CONFLICT (kb_id) DO NOTHING"
)
_BASE_KEY = text("SELECT kb_key FROM kb_kw_bases WHERE kb_id = :kb")
_COUNT = text(
    "UPDATE kb_kw_bases SET chunks = chunks + :chunks, tokens = tokens + :tokens "
    "WHERE kb_key = :key"
)
# On PostgreSQL a statement per row is a round trip per row (2,000 for a ten-page PDF), so
# the rows go there as arrays, in one statement (``_upsert``).
_APPEND = {
    # SQLite's || yields text; the cast gives the same bytes back as a blob.
    "sqlite": text(
        "INSERT INTO kb_kw_postings (term, kb_key, block, data) "
        "VALUES (:term, :key, :block, :data) ON CONFLICT (term, kb_key, block) "
        "DO UPDATE SET data = CAST(kb_kw_postings.data || excluded.data AS BLOB)"
    ),
    "postgresql": text(
        "INSERT INTO kb_kw_postings (term, kb_key, block, data) "
        "SELECT * FROM unnest(CAST(:term AS text[]), CAST(:key AS integer[]), "
        "CAST(:block AS integer[]), CAST(:data AS bytea[])) "
        "ON CONFLICT (term, kb_key, block) "
        "DO UPDATE SET data = kb_kw_postings.data || excluded.data"
    ),
}
_ADD_DF = {
    "sqlite": text(
        "INSERT INTO kb_kw_terms (term, kb_key, df) VALUES (:term, :key, :n) "
        "ON CONFLICT (term, kb_key) DO UPDATE SET df = kb_kw_terms.df + excluded.df"
    ),
    "postgresql": text(
        "INSERT INTO kb_kw_terms (term, kb_key, df) "
        "SELECT * FROM unnest(CAST(:term AS text[]), CAST(:key AS integer[]), "
        "CAST(:n AS integer[])) "
        "ON CONFLICT (term, kb_key) DO UPDATE SET df = kb_kw_terms.df + excluded.df"
    ),
}
_ADD_CHUNK = text(
    "INSERT INTO kb_kw_chunks (chunk_id, kb_key, dl, terms) VALUES (:id, :key, :dl, :terms)"
)
_CHUNKS = text("SELECT chunk_id, kb_key, dl, terms FROM kb_kw_chunks WHERE chunk_id IN :ids")
_BLOCKS = (
    "SELECT term, block, data FROM kb_kw_postings "
    "WHERE kb_key = :key AND block IN :blocks AND term IN :terms ORDER BY term, block"
)
_REWRITE = text(
    "UPDATE kb_kw_postings SET data = :data WHERE term = :term AND kb_key = :key AND block = :block"
)
_REMOVE_BLOCK = text(
    "DELETE FROM kb_kw_postings WHERE term = :term AND kb_key = :key AND block = :block"
)
_SUB_DF = text("UPDATE kb_kw_terms SET df = df - :n WHERE term = :term AND kb_key = :key")
_REMOVE_CHUNKS = text("DELETE FROM kb_kw_chunks WHERE chunk_id IN :ids")
_SCOPE = text("SELECT kb_key, chunks, tokens FROM kb_kw_bases WHERE kb_id IN :kb_ids")
_DF = text(
    "SELECT term, SUM(df) AS df FROM kb_kw_terms "
    "WHERE term IN :terms AND kb_key IN :keys GROUP BY term"
)
_POSTINGS = text(
    "SELECT term, block, data FROM kb_kw_postings WHERE term IN :terms AND kb_key IN :keys"
)
# psycopg's own placeholders: this one is run on the driver's cursor (``_posting_rows``).
_POSTINGS_PG = (
    "SELECT term, block, data FROM kb_kw_postings "
    "WHERE term = ANY(%(terms)s) AND kb_key = ANY(%(keys)s)"
)
_DROP_BASE = tuple(
    text(f"DELETE FROM {table} WHERE kb_key = :key")  # noqa: S608 (module constants only)
    for table in ("kb_kw_postings", "kb_kw_terms", "kb_kw_chunks", "kb_kw_bases")
)

_CHUNKS = _CHUNKS.bindparams(bindparam("ids", expanding=True))
# On PostgreSQL another writer may be appending to the blocks being rewritten; without the
# lock, writing back what was read would drop its entries.
_READ_BLOCKS = {
    dialect: text(sql).bindparams(
        bindparam("blocks", expanding=True), bindparam("terms", expanding=True)
    )
    for dialect, sql in (("sqlite", _BLOCKS), ("postgresql", f"{_BLOCKS} FOR UPDATE"))
}
_REMOVE_CHUNKS = _REMOVE_CHUNKS.bindparams(bindparam("ids", expanding=True))
_SCOPE = _SCOPE.bindparams(bindparam("kb_ids", expanding=True))
_DF = _DF.bindparams(bindparam("terms", expanding=True), bindparam("keys", expanding=True))
_POSTINGS = _POSTINGS.bindparams(
    bindparam("terms", expanding=True), bindparam("keys", expanding=True)
)


def add(conn: Connection, chunks: Sequence[Weighted]) -> None:
    keys: dict[str, int] = {}
    blocks: dict[tuple[str, int, int], list[tuple[int, float, int]]] = defaultdict(list)
    rows: list[dict[str, object]] = []
    frequency: dict[tuple[str, int], int] = defaultdict(int)
    counts: dict[int, tuple[int, int]] = {}
    for chunk in chunks:
        key = keys.get(chunk.kb_id)
        if key is None:
            key = keys[chunk.kb_id] = _base_key(conn, chunk.kb_id)
        block, offset = divmod(chunk.chunk_id, BLOCK)
        for term, tf in chunk.frequencies.items():
            blocks[(term, key, block)].append((offset, tf, chunk.length))
            frequency[(term, key)] += 1
        rows.append(
            {
                "id": chunk.chunk_id,
                "key": key,
                "dl": chunk.length,
                "terms": orjson.dumps(list(chunk.frequencies)).decode(),
            }
        )
        n, tokens = counts.get(key, (0, 0))
        counts[key] = (n + 1, tokens + chunk.length)
    if not rows:
        return
    # Sorted, so that two writers upserting overlapping rows lock them in the same order.
    _upsert(
        conn,
        _APPEND,
        [
            {"term": t, "key": k, "block": b, "data": _pack(entries)}
            for (t, k, b), entries in sorted(blocks.items())
        ],
    )
    _upsert(
        conn, _ADD_DF, [{"term": t, "key": k, "n": n} for (t, k), n in sorted(frequency.items())]
    )
    conn.execute(_ADD_CHUNK, rows)
    for key, (n, tokens) in sorted(counts.items()):
        conn.execute(_COUNT, {"key": key, "chunks": n, "tokens": tokens})


def remove(conn: Connection, chunk_ids: Sequence[int]) -> None:
    rows = conn.execute(_CHUNKS, {"ids": list(chunk_ids)}).all()
    if not rows:
        return
    # Per knowledge base: the offsets leaving each block, and the terms whose blocks change.
    leaving: dict[int, dict[int, set[int]]] = defaultdict(lambda: defaultdict(set))
    terms: dict[int, set[str]] = defaultdict(set)
    frequency: dict[tuple[str, int], int] = defaultdict(int)
    counts: dict[int, tuple[int, int]] = {}
    for row in rows:
        block, offset = divmod(row.chunk_id, BLOCK)
        leaving[row.kb_key][block].add(offset)
        for term in orjson.loads(row.terms):
            terms[row.kb_key].add(term)
            frequency[(term, row.kb_key)] += 1
        n, tokens = counts.get(row.kb_key, (0, 0))
        counts[row.kb_key] = (n - 1, tokens - row.dl)
    for key in sorted(leaving):
        _rewrite_blocks(conn, key, leaving[key], sorted(terms[key]))
    # A term's row stays at df 0 rather than being deleted: it is read as absent, and the
    # next document to use the term again updates it in place.
    conn.execute(
        _SUB_DF, [{"term": t, "key": k, "n": n} for (t, k), n in sorted(frequency.items())]
    )
    for key, (n, tokens) in sorted(counts.items()):
        conn.execute(_COUNT, {"key": key, "chunks": n, "tokens": tokens})
    conn.execute(_REMOVE_CHUNKS, {"ids": [row.chunk_id for row in rows]})


def remove_kb(conn: Connection, kb_id: str) -> None:
    """Everything of one knowledge base, in one pass per table rather than chunk by chunk."""
    key = conn.execute(_BASE_KEY, {"kb": kb_id}).scalar()
    if key is not None:
        for statement in _DROP_BASE:
            conn.execute(statement, {"key": key})


def scope(conn: Connection, kb_ids: Sequence[str]) -> Scope:
    rows = conn.execute(_SCOPE, {"kb_ids": list(kb_ids)}).all()
    return Scope(
        keys=[row.kb_key for row in rows],
        chunks=sum(row.chunks for row in rows),
        tokens=sum(row.tokens for row in rows),
    )


def document_frequencies(conn: Connection, terms: list[str], keys: list[int]) -> dict[str, int]:
    rows = conn.execute(_DF, {"terms": terms, "keys": keys})
    return {row.term: int(row.df) for row in rows if row.df > 0}


def postings(conn: Connection, terms: list[str], keys: list[int]) -> dict[str, Postings]:
    """Each term's postings in the knowledge bases of ``keys``, read in one query."""
    by_term: dict[str, tuple[list[int], list[bytes]]] = {t: ([], []) for t in terms}
    for term, block, data in _posting_rows(conn, terms, keys):
        blocks, parts = by_term[term]
        blocks.append(block)
        parts.append(data)
    found: dict[str, Postings] = {}
    for term, (blocks, parts) in by_term.items():
        if not parts:
            continue
        entries = np.frombuffer(b"".join(parts), dtype=ENTRY)
        sizes = np.fromiter((len(p) // ENTRY.itemsize for p in parts), np.int64, len(parts))
        first = np.repeat(np.asarray(blocks, np.int64) * BLOCK, sizes)
        found[term] = Postings(
            chunk_ids=first + entries["offset"],
            tf=entries["tf"].astype(np.float64),
            dl=entries["dl"].astype(np.float64),
        )
    return found


def _posting_rows(conn: Connection, terms: list[str], keys: list[int]) -> Sequence[tuple[Any, ...]]:
    if conn.dialect.name != "postgresql":
        return conn.execute(_POSTINGS, {"terms": terms, "keys": keys}).all()
    # Up to 2 MB of postings a search: in the text format bytea is hex, twice the bytes,
    # and SQLAlchemy's rows cost more again. In the binary format, on the driver's cursor in
    # the same transaction, the read took 5.0 ms p50 and 12.4 ms p95 at 100,000 chunks,
    # where it took 8.7 and 22.1 (bench/retrieval.py's latency corpus).
    driver = conn.connection.driver_connection
    assert driver is not None
    with driver.cursor(binary=True) as cursor:
        rows: list[tuple[Any, ...]] = cursor.execute(
            _POSTINGS_PG, {"terms": terms, "keys": keys}
        ).fetchall()
    return rows


def _rewrite_blocks(
    conn: Connection, key: int, leaving: dict[int, set[int]], terms: list[str]
) -> None:
    select = _READ_BLOCKS[conn.dialect.name]
    rewritten: list[dict[str, object]] = []
    emptied: list[dict[str, object]] = []
    for start in range(0, len(terms), _TERMS_PER_QUERY):
        batch = terms[start : start + _TERMS_PER_QUERY]
        params = {"key": key, "blocks": sorted(leaving), "terms": batch}
        for term, block, data in conn.execute(select, params):
            entries = np.frombuffer(data, dtype=ENTRY)
            gone = np.isin(entries["offset"], list(leaving[block]))
            if not gone.any():
                continue
            where = {"term": term, "key": key, "block": block}
            if gone.all():
                emptied.append(where)
            else:
                rewritten.append({**where, "data": entries[~gone].tobytes()})
    if rewritten:
        conn.execute(_REWRITE, rewritten)
    if emptied:
        conn.execute(_REMOVE_BLOCK, emptied)


def _upsert(
    conn: Connection, statements: dict[str, TextClause], rows: list[dict[str, Any]]
) -> None:
    """Rows one by one on SQLite (no round trips there), as one row of arrays on PostgreSQL."""
    statement = statements[conn.dialect.name]
    if conn.dialect.name == "postgresql":
        conn.execute(statement, {name: [row[name] for row in rows] for name in rows[0]})
    else:
        conn.execute(statement, rows)


def _pack(entries: list[tuple[int, float, int]]) -> bytes:
    return np.array(entries, dtype=ENTRY).tobytes()


def _base_key(conn: Connection, kb_id: str) -> int:
    conn.execute(_ADD_BASE, {"kb": kb_id})
    return int(conn.execute(_BASE_KEY, {"kb": kb_id}).scalar_one())
