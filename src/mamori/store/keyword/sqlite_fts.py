"""The keyword index on SQLite: FTS5 over pre-tokenised text, ranked by its ``bm25()``.

``kb_fts`` has the columns title, headings and body; its row id is the chunk's id. The
``kb_fts_vocab`` table (fts5vocab, "row" kind) gives each term's document frequency, which a
search uses to leave out terms in more than half of all chunks (unless no other term is
left): FTS5 gives those an IDF of 1e-6, so they barely change the order, and skipping them
keeps a query from visiting most of the index.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import Connection, bindparam, text

from mamori.store.keyword import (
    BODY_WEIGHT,
    HEADINGS_WEIGHT,
    TITLE_WEIGHT,
    IndexEntry,
    Ranked,
)

_INSERT = text("INSERT INTO kb_fts (rowid, title, headings, body) VALUES (:id, :t, :h, :b)")
_DELETE = text("DELETE FROM kb_fts WHERE rowid IN :ids").bindparams(
    bindparam("ids", expanding=True)
)
_TOTAL = text("SELECT COUNT(*) FROM kb_fts_docsize")
_DF = text("SELECT term, doc FROM kb_fts_vocab WHERE term IN :terms").bindparams(
    bindparam("terms", expanding=True)
)
# Only module constants are formatted in; every value from outside is a bound parameter.
_SEARCH = text(
    f"""
    SELECT kb_fts.rowid AS id,
           bm25(kb_fts, {TITLE_WEIGHT}, {HEADINGS_WEIGHT}, {BODY_WEIGHT}) AS rank
    FROM kb_fts JOIN kb_chunks ON kb_chunks.id = kb_fts.rowid
    WHERE kb_fts MATCH :query AND kb_chunks.kb_id IN :kb_ids
    ORDER BY rank
    LIMIT :limit
    """  # noqa: S608
).bindparams(bindparam("kb_ids", expanding=True))


def add(conn: Connection, entries: Sequence[IndexEntry]) -> None:
    # A chunk without terms is left out, as on PostgreSQL, so both count the same N.
    rows = [e for e in entries if e.title or e.headings or e.body]
    if not rows:
        return
    conn.execute(
        _INSERT,
        [
            {
                "id": e.chunk_id,
                "t": " ".join(e.title),
                "h": " ".join(e.headings),
                "b": " ".join(e.body),
            }
            for e in rows
        ],
    )


def remove(conn: Connection, chunk_ids: Sequence[int]) -> None:
    conn.execute(_DELETE, {"ids": list(chunk_ids)})


def search(
    conn: Connection, terms: list[str], *, kb_ids: Sequence[str], limit: int
) -> list[Ranked]:
    kept = _informative(conn, terms)
    if not kept:
        return []
    query = " OR ".join(_quoted(t) for t in kept)
    rows = conn.execute(_SEARCH, {"query": query, "kb_ids": list(kb_ids), "limit": limit})
    # bm25() is lower-is-better; the index's callers read higher-is-better.
    return [Ranked(chunk_id=row.id, score=-float(row.rank)) for row in rows]


def _informative(conn: Connection, terms: list[str]) -> list[str]:
    total = conn.execute(_TOTAL).scalar_one()
    frequencies = {row.term: row.doc for row in conn.execute(_DF, {"terms": terms})}
    present = [t for t in terms if frequencies.get(t, 0) > 0]
    informative = [t for t in present if frequencies[t] <= total / 2]
    # In a small knowledge base every term may be common; then the 1e-6 IDFs still order.
    return informative or present


def _quoted(term: str) -> str:
    # An FTS5 string: the term is matched as written (after the table's tokenizer), never
    # read as query syntax (AND, NEAR, column filters, *).
    return '"' + term.replace('"', '""') + '"'
