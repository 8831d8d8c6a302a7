"""Messages of a conversation. These functions do not check ownership: load the conversation
with ``get_conversation(conn, id, user_id)`` first, in the same transaction."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Connection, RowMapping, func, select

from mamori.domain.conversation import MessageStatus, StoredMessage
from mamori.domain.documents import Citation
from mamori.store.repos._common import new_id, utcnow
from mamori.store.tables import messages


def _row_to_message(row: RowMapping | dict[str, Any]) -> StoredMessage:
    return StoredMessage(
        id=row["id"],
        conversation_id=row["conversation_id"],
        turn_id=row["turn_id"],
        role=row["role"],
        content=row["content"],
        reasoning=row["reasoning"],
        status=MessageStatus(row["status"]),
        model=row["model"],
        endpoint=row["endpoint"],
        reasoning_effort=row["reasoning_effort"],
        error_code=row["error_code"],
        created_at=row["created_at"],
        reasoning_summary=row["reasoning_summary"],
        reasoning_ms=row["reasoning_ms"],
        reasoning_tokens=row["reasoning_tokens"],
        citations=_citations(row.get("citations")),
        attachments=tuple(
            (a["id"], a["filename"]) for a in orjson.loads(row.get("attachments") or "[]")
        ),
        reviewed_by=row.get("reviewed_by"),
        reviewed_at=row.get("reviewed_at"),
    )


def _citations(raw: str | None) -> tuple[Citation, ...]:
    return tuple(Citation(**c) for c in orjson.loads(raw)) if raw else ()


def add_message(
    conn: Connection,
    *,
    conversation_id: str,
    turn_id: str,
    role: str,
    content: str,
    reasoning: str | None = None,
    status: MessageStatus = MessageStatus.COMPLETE,
    model: str | None = None,
    endpoint: str | None = None,
    reasoning_effort: str | None = None,
    error_code: str | None = None,
    now: datetime | None = None,
    reasoning_summary: str | None = None,
    reasoning_ms: int | None = None,
    reasoning_tokens: int | None = None,
    citations: Sequence[Citation] = (),
    attachments: Sequence[tuple[str, str]] = (),
) -> StoredMessage:
    """Append a message at the next ``seq`` of its conversation.

    Reading the last seq and inserting is safe because writes are serialised (one writer thread,
    BEGIN IMMEDIATE on SQLite); the unique index turns any other race into a ``ConflictError``.
    """
    last = conn.execute(
        select(func.max(messages.c.seq)).where(messages.c.conversation_id == conversation_id)
    ).scalar()
    values = {
        "id": new_id(),
        "conversation_id": conversation_id,
        "turn_id": turn_id,
        "seq": (last or 0) + 1,
        "role": role,
        "content": content,
        "reasoning": reasoning,
        "status": MessageStatus(status).value,
        "model": model,
        "endpoint": endpoint,
        "reasoning_effort": reasoning_effort,
        "error_code": error_code,
        "created_at": now or utcnow(),
        "reasoning_summary": reasoning_summary,
        "reasoning_ms": reasoning_ms,
        "reasoning_tokens": reasoning_tokens,
        "citations": orjson.dumps([asdict(c) for c in citations]).decode() if citations else None,
        "attachments": orjson.dumps([{"id": i, "filename": n} for i, n in attachments]).decode()
        if attachments
        else None,
    }
    conn.execute(messages.insert().values(**values))
    return _row_to_message(values)


def list_messages(conn: Connection, conversation_id: str) -> list[StoredMessage]:
    query = (
        select(messages)
        .where(messages.c.conversation_id == conversation_id)
        .order_by(messages.c.seq)
    )
    return [_row_to_message(r) for r in conn.execute(query).mappings()]


def assistant_reasoning_for_turn(conn: Connection, turn_id: str) -> str | None:
    """The raw reasoning kept with a workspace turn's answer, if the turn has one."""
    row = conn.execute(
        select(messages.c.reasoning).where(
            messages.c.turn_id == turn_id, messages.c.role == "assistant"
        )
    ).first()
    return row[0] if row else None


def get_message(conn: Connection, conversation_id: str, message_id: str) -> StoredMessage | None:
    row = (
        conn.execute(
            select(messages).where(
                messages.c.conversation_id == conversation_id, messages.c.id == message_id
            )
        )
        .mappings()
        .first()
    )
    return _row_to_message(row) if row else None


def mark_reviewed(conn: Connection, message_id: str, reviewer: str, at: datetime) -> bool:
    """Records the first confirmation only: a second one would rewrite who vouched for it."""
    result = conn.execute(
        messages.update()
        .where(messages.c.id == message_id, messages.c.reviewed_by.is_(None))
        .values(reviewed_by=reviewer, reviewed_at=at)
    )
    return result.rowcount > 0


def delete_turn(conn: Connection, conversation_id: str, turn_id: str) -> int:
    """The messages of one exchange (a question and its answer), as a regenerated answer
    replaces them; the new ones take the next places, so the order stays."""
    return conn.execute(
        messages.delete().where(
            messages.c.conversation_id == conversation_id, messages.c.turn_id == turn_id
        )
    ).rowcount
