"""Conversations. Every query that takes a ``user_id`` checks ownership inside the SQL itself,
so another user's conversation looks exactly like a missing one, and so does a deleted one: a
deletion only marks the row, which the retention purge removes when its period ends."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Connection, RowMapping, func, select

from mamori.domain.classification import Classification
from mamori.domain.conversation import Conversation
from mamori.store.repos._common import new_id, utcnow
from mamori.store.tables import conversations, messages


def _row_to_conversation(row: RowMapping | dict[str, Any]) -> Conversation:
    return Conversation(
        id=row["id"],
        user_id=row["user_id"],
        title=row["title"],
        model=row["model"],
        classification=Classification(row["classification"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        knowledge_bases=tuple(orjson.loads(row["knowledge_bases"] or "[]")),
        use_case=row["use_case"],
    )


def _owned(conversation_id: str, user_id: str) -> Any:
    return (
        (conversations.c.id == conversation_id)
        & (conversations.c.user_id == user_id)
        & conversations.c.deleted_at.is_(None)
    )


def create_conversation(
    conn: Connection,
    *,
    user_id: str,
    title: str,
    model: str | None,
    classification: Classification,
    use_case: str | None = None,
    knowledge_bases: Sequence[str] = (),
    now: datetime | None = None,
) -> Conversation:
    """The caller has checked that the user may read each of ``knowledge_bases``."""
    at = now or utcnow()
    values = {
        "id": new_id(),
        "user_id": user_id,
        "title": title,
        "model": model,
        "classification": int(classification),
        "knowledge_bases": _kb_ids_json(knowledge_bases),
        "use_case": use_case,
        "created_at": at,
        "updated_at": at,
    }
    conn.execute(conversations.insert().values(**values))
    return _row_to_conversation(values)


def get_conversation(conn: Connection, conversation_id: str, user_id: str) -> Conversation | None:
    row = (
        conn.execute(select(conversations).where(_owned(conversation_id, user_id)))
        .mappings()
        .first()
    )
    return _row_to_conversation(row) if row else None


def list_conversations(conn: Connection, user_id: str, limit: int = 200) -> list[Conversation]:
    """Most recently active first; the id breaks ties so that pages are stable."""
    query = (
        select(conversations)
        .where(conversations.c.user_id == user_id, conversations.c.deleted_at.is_(None))
        .order_by(conversations.c.updated_at.desc(), conversations.c.id.desc())
        .limit(limit)
    )
    return [_row_to_conversation(r) for r in conn.execute(query).mappings()]


def search_conversations(
    conn: Connection, user_id: str, text: str, limit: int = 50
) -> list[Conversation]:
    """The user's conversations whose title or any message contains ``text`` (case is
    ignored; ``%`` and ``_`` are literal), most recently active first."""
    needle = text.lower()
    in_messages = (
        select(messages.c.conversation_id)
        .where(func.lower(messages.c.content).contains(needle, autoescape=True))
        .scalar_subquery()
    )
    query = (
        select(conversations)
        .where(
            conversations.c.user_id == user_id,
            conversations.c.deleted_at.is_(None),
            func.lower(conversations.c.title).contains(needle, autoescape=True)
            | conversations.c.id.in_(in_messages),
        )
        .order_by(conversations.c.updated_at.desc(), conversations.c.id.desc())
        .limit(limit)
    )
    return [_row_to_conversation(r) for r in conn.execute(query).mappings()]


def rename_conversation(conn: Connection, conversation_id: str, user_id: str, title: str) -> bool:
    # Deliberately leaves updated_at alone: a rename should not move it to the top of the list.
    result = conn.execute(
        conversations.update().where(_owned(conversation_id, user_id)).values(title=title)
    )
    return result.rowcount > 0


def delete_conversation(
    conn: Connection, conversation_id: str, user_id: str, now: datetime | None = None
) -> bool:
    """Marks it deleted; ``purge_deleted`` removes it, and its messages with it."""
    result = conn.execute(
        conversations.update()
        .where(_owned(conversation_id, user_id))
        .values(deleted_at=now or utcnow())
    )
    return result.rowcount > 0


def purge_deleted(conn: Connection, deleted_before: datetime, level: Classification) -> int:
    """Removes the conversations of class ``level`` deleted before the cut-off; their messages
    go by the foreign key's ON DELETE CASCADE. The audit records of their turns stay."""
    result = conn.execute(
        conversations.delete().where(
            conversations.c.deleted_at.is_not(None),
            conversations.c.deleted_at < deleted_before,
            conversations.c.classification == int(level),
        )
    )
    return result.rowcount


def touch_conversation(
    conn: Connection, conversation_id: str, now: datetime, model: str | None = None
) -> None:
    """Mark new activity, optionally recording the model the last turn used."""
    values: dict[str, Any] = {"updated_at": now}
    if model is not None:
        values["model"] = model
    conn.execute(
        conversations.update().where(conversations.c.id == conversation_id).values(**values)
    )


def raise_classification(conn: Connection, conversation_id: str, level: Classification) -> bool:
    """Raise the label to ``level`` if it is below; never lowers it. True when it changed."""
    result = conn.execute(
        conversations.update()
        .where(
            conversations.c.id == conversation_id,
            conversations.c.classification < int(level),
        )
        .values(classification=int(level))
    )
    return result.rowcount > 0


def set_classification(
    conn: Connection, conversation_id: str, user_id: str, level: Classification
) -> bool:
    """Set the label, up or down; the caller has confirmed a lowering and records it."""
    result = conn.execute(
        conversations.update()
        .where(_owned(conversation_id, user_id))
        .values(classification=int(level))
    )
    return result.rowcount > 0


def set_knowledge_bases(
    conn: Connection, conversation_id: str, user_id: str, kb_ids: Sequence[str]
) -> bool:
    """The caller has checked that the user may read each of ``kb_ids``."""
    result = conn.execute(
        conversations.update()
        .where(_owned(conversation_id, user_id))
        .values(knowledge_bases=_kb_ids_json(kb_ids))
    )
    return result.rowcount > 0


def _kb_ids_json(kb_ids: Sequence[str]) -> str | None:
    return orjson.dumps(list(kb_ids)).decode() if kb_ids else None
