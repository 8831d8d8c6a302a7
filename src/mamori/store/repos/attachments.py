"""Files attached to questions, as the parsers read them. Every query that takes a
``user_id`` returns only that person's attachments."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, RowMapping, select

from mamori.domain.documents import Attachment
from mamori.store.repos._common import new_id, utcnow
from mamori.store.tables import attachments


def _row(row: RowMapping) -> Attachment:
    return Attachment(
        id=row["id"],
        filename=row["filename"],
        text=row["text"],
        pages=row["pages"],
        chars=row["chars"],
        truncated=bool(row["truncated"]),
        conversation_id=row["conversation_id"],
    )


def create_attachment(
    conn: Connection,
    *,
    user_id: str,
    filename: str,
    text: str,
    pages: int,
    chars: int,
    truncated: bool,
) -> Attachment:
    values = {
        "id": new_id(),
        "user_id": user_id,
        "conversation_id": None,
        "filename": filename,
        "text": text,
        "pages": pages,
        "chars": chars,
        "truncated": truncated,
        "created_at": utcnow(),
    }
    conn.execute(attachments.insert().values(**values))
    return Attachment(
        id=str(values["id"]),
        filename=filename,
        text=text,
        pages=pages,
        chars=chars,
        truncated=truncated,
    )


def owned(conn: Connection, user_id: str, ids: Sequence[str]) -> list[Attachment]:
    """The person's attachments among ``ids``, in the order asked for."""
    if not ids:
        return []
    rows = conn.execute(
        select(attachments).where(attachments.c.user_id == user_id, attachments.c.id.in_(ids))
    ).mappings()
    found = {r["id"]: _row(r) for r in rows}
    return [found[i] for i in ids if i in found]


def bind(conn: Connection, ids: Sequence[str], conversation_id: str) -> None:
    """From now on they live and die with the conversation."""
    if ids:
        conn.execute(
            attachments.update()
            .where(attachments.c.id.in_(ids), attachments.c.conversation_id.is_(None))
            .values(conversation_id=conversation_id)
        )


def of_conversation(conn: Connection, conversation_id: str) -> dict[str, Attachment]:
    rows = conn.execute(
        select(attachments).where(attachments.c.conversation_id == conversation_id)
    ).mappings()
    return {r["id"]: _row(r) for r in rows}


def delete_unsent(conn: Connection, user_id: str, attachment_id: str) -> bool:
    return (
        conn.execute(
            attachments.delete().where(
                attachments.c.id == attachment_id,
                attachments.c.user_id == user_id,
                attachments.c.conversation_id.is_(None),
            )
        ).rowcount
        > 0
    )


def purge_unsent(conn: Connection, before: datetime) -> int:
    """Attachments uploaded but never sent with a question, older than ``before``."""
    return conn.execute(
        attachments.delete().where(
            attachments.c.conversation_id.is_(None), attachments.c.created_at < before
        )
    ).rowcount
