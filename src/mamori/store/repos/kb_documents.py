"""Documents of knowledge bases and their chunks.

The keyword index is kept in step by the caller (``mamori.rag.ingest``) in the same
transaction: ``replace_chunks`` and ``delete_document`` hand back the chunk ids that left, so
that a removed document is gone from search the moment the transaction commits.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, RowMapping, delete, func, insert, select, update

from mamori.domain.documents import DocumentStatus, KbDocument, SearchHit
from mamori.store.keyword import Ranked
from mamori.store.repos._common import new_id, utcnow
from mamori.store.tables import kb_chunks, kb_documents


@dataclass(frozen=True, slots=True)
class NewChunk:
    ordinal: int
    text: str
    page: int | None
    headings: str
    held_back: bool = False
    flags: str | None = None


@dataclass(frozen=True, slots=True)
class StoredChunk:
    id: int
    document_id: str
    ordinal: int
    text: str
    page: int | None
    headings: str
    held_back: bool
    flags: str | None


def _row_to_document(row: RowMapping) -> KbDocument:
    return KbDocument(
        id=row["id"],
        kb_id=row["kb_id"],
        filename=row["filename"],
        title=row["title"],
        content_hash=row["content_hash"],
        size_bytes=row["size_bytes"],
        status=DocumentStatus(row["status"]),
        pages=row["pages"],
        chunks=row["chunks"],
        error=row["error"],
        held_back=row["held_back"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


def upsert_document(
    conn: Connection,
    *,
    kb_id: str,
    filename: str,
    content_hash: str,
    size_bytes: int,
    created_by: str | None,
) -> KbDocument:
    """A pending document for this file; one of the same name is replaced (same id, so
    citations of it keep pointing at the newest version)."""
    now = utcnow()
    existing = find_document(conn, kb_id, filename)
    values = {
        "content_hash": content_hash,
        "size_bytes": size_bytes,
        "status": DocumentStatus.PENDING.value,
        "error": None,
        "updated_at": now,
    }
    if existing is None:
        doc_id = new_id()
        conn.execute(
            insert(kb_documents).values(
                id=doc_id,
                kb_id=kb_id,
                filename=filename,
                title=filename,
                pages=0,
                chunks=0,
                held_back=0,
                created_by=created_by,
                created_at=now,
                **values,
            )
        )
    else:
        doc_id = existing.id
        conn.execute(update(kb_documents).where(kb_documents.c.id == doc_id).values(**values))
    document = get_document(conn, doc_id)
    assert document is not None
    return document


def get_document(conn: Connection, document_id: str) -> KbDocument | None:
    row = conn.execute(select(kb_documents).where(kb_documents.c.id == document_id)).first()
    return _row_to_document(row._mapping) if row else None


def find_document(conn: Connection, kb_id: str, filename: str) -> KbDocument | None:
    row = conn.execute(
        select(kb_documents).where(
            kb_documents.c.kb_id == kb_id, kb_documents.c.filename == filename
        )
    ).first()
    return _row_to_document(row._mapping) if row else None


def list_documents(conn: Connection, kb_id: str) -> list[KbDocument]:
    rows = conn.execute(
        select(kb_documents).where(kb_documents.c.kb_id == kb_id).order_by(kb_documents.c.filename)
    )
    return [_row_to_document(row._mapping) for row in rows]


def documents_in_status(conn: Connection, *statuses: DocumentStatus) -> list[KbDocument]:
    rows = conn.execute(
        select(kb_documents)
        .where(kb_documents.c.status.in_([s.value for s in statuses]))
        .order_by(kb_documents.c.updated_at)
    )
    return [_row_to_document(row._mapping) for row in rows]


def set_status(
    conn: Connection, document_id: str, status: DocumentStatus, *, error: str | None = None
) -> None:
    conn.execute(
        update(kb_documents)
        .where(kb_documents.c.id == document_id)
        .values(status=status.value, error=error, updated_at=utcnow())
    )


def replace_chunks(
    conn: Connection,
    document_id: str,
    *,
    kb_id: str,
    title: str,
    pages: int,
    chunks: Sequence[NewChunk],
) -> tuple[list[int], list[int]]:
    """Swaps the document's chunks for ``chunks`` and marks it ready. Returns the ids removed
    and the ids of the new chunks, in the order given."""
    old = chunk_ids_of_document(conn, document_id)
    if old:
        conn.execute(delete(kb_chunks).where(kb_chunks.c.document_id == document_id))
    new: list[int] = []
    if chunks:
        rows = [
            {
                "document_id": document_id,
                "kb_id": kb_id,
                "ordinal": c.ordinal,
                "page": c.page,
                "headings": c.headings,
                "text": c.text,
                "held_back": c.held_back,
                "flags": c.flags,
            }
            for c in chunks
        ]
        result = conn.execute(
            insert(kb_chunks).returning(kb_chunks.c.id, sort_by_parameter_order=True), rows
        )
        new = [row.id for row in result]
    conn.execute(
        update(kb_documents)
        .where(kb_documents.c.id == document_id)
        .values(
            title=title,
            pages=pages,
            chunks=len(chunks),
            held_back=sum(1 for c in chunks if c.held_back),
            status=DocumentStatus.READY.value,
            error=None,
            updated_at=utcnow(),
        )
    )
    return old, new


def chunk_ids_of_document(conn: Connection, document_id: str) -> list[int]:
    query = select(kb_chunks.c.id).where(kb_chunks.c.document_id == document_id)
    return list(conn.execute(query).scalars())


def delete_document(conn: Connection, document_id: str) -> list[int] | None:
    """The removed chunk ids, or None when there was no such document."""
    ids = chunk_ids_of_document(conn, document_id)
    gone = conn.execute(delete(kb_documents).where(kb_documents.c.id == document_id)).rowcount
    return ids if gone else None


def chunks_of_document(conn: Connection, document_id: str) -> list[StoredChunk]:
    rows = conn.execute(
        select(kb_chunks)
        .where(kb_chunks.c.document_id == document_id)
        .order_by(kb_chunks.c.ordinal)
    )
    return [
        StoredChunk(
            id=r.id,
            document_id=r.document_id,
            ordinal=r.ordinal,
            text=r.text,
            page=r.page,
            headings=r.headings,
            held_back=r.held_back,
            flags=r.flags,
        )
        for r in rows
    ]


def count_chunks(conn: Connection, kb_id: str | None = None) -> int:
    query = select(func.count()).select_from(kb_chunks)
    if kb_id is not None:
        query = query.where(kb_chunks.c.kb_id == kb_id)
    return int(conn.execute(query).scalar_one())


def hits(conn: Connection, ranked: Sequence[Ranked]) -> list[SearchHit]:
    """The chunks behind ``ranked``, in its order, with their documents' names."""
    if not ranked:
        return []
    rows = conn.execute(
        select(
            kb_chunks.c.id,
            kb_chunks.c.kb_id,
            kb_chunks.c.document_id,
            kb_chunks.c.text,
            kb_chunks.c.page,
            kb_chunks.c.headings,
            kb_documents.c.title,
            kb_documents.c.filename,
        )
        .join(kb_documents, kb_documents.c.id == kb_chunks.c.document_id)
        .where(kb_chunks.c.id.in_([r.chunk_id for r in ranked]))
    )
    by_id = {row.id: row for row in rows}
    return [
        SearchHit(
            chunk_id=r.chunk_id,
            kb_id=row.kb_id,
            document_id=row.document_id,
            title=row.title,
            filename=row.filename,
            text=row.text,
            page=row.page,
            headings=row.headings,
            score=r.score,
        )
        for r in ranked
        if (row := by_id.get(r.chunk_id)) is not None
    ]
