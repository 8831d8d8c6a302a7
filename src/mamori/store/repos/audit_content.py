"""What turns said, kept beside the audit chain for as long as their retention allows.

The chained record holds only hashes of this content, so purging it (the text becomes NULL,
``purged_at`` is set) never touches the chain: every record still verifies afterwards, and a
copy of the content found elsewhere can still be proven to be the one that was said.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, RowMapping, func, select

from mamori.domain.audit import AuditContent, AuditRecord
from mamori.store.tables import audit_content


@dataclass(frozen=True, slots=True)
class StoredContent:
    seq: int
    prompt: str | None
    answer: str | None
    reasoning: str | None
    expires_at: datetime | None
    purged_at: datetime | None


def save_content(conn: Connection, seq: int, record: AuditRecord, content: AuditContent) -> None:
    conn.execute(
        audit_content.insert().values(
            seq=seq,
            classification=int(record.classification),
            created_at=record.created_at,
            expires_at=content.expires_at,
            prompt=content.prompt,
            answer=content.answer,
            reasoning=content.reasoning,
        )
    )


def get_content(conn: Connection, seq: int) -> StoredContent | None:
    row = conn.execute(select(audit_content).where(audit_content.c.seq == seq)).mappings().first()
    return None if row is None else _content(row)


def _content(row: RowMapping) -> StoredContent:
    return StoredContent(
        seq=row["seq"],
        prompt=row["prompt"],
        answer=row["answer"],
        reasoning=row["reasoning"],
        expires_at=row["expires_at"],
        purged_at=row["purged_at"],
    )


def contents_between(conn: Connection, start: int, end: int) -> dict[int, StoredContent]:
    """The kept content of records ``start..end``, by sequence number (for exports)."""
    rows = conn.execute(select(audit_content).where(audit_content.c.seq.between(start, end)))
    return {row["seq"]: _content(row) for row in rows.mappings()}


def purge_expired(conn: Connection, now: datetime) -> int:
    """Drop the text of every content row whose retention ended; return how many."""
    result = conn.execute(
        audit_content.update()
        .where(audit_content.c.expires_at <= now, audit_content.c.purged_at.is_(None))
        .values(prompt=None, answer=None, reasoning=None, purged_at=now)
    )
    return result.rowcount or 0


def count_expired(conn: Connection, now: datetime) -> int:
    return conn.execute(
        select(func.count())
        .select_from(audit_content)
        .where(audit_content.c.expires_at <= now, audit_content.c.purged_at.is_(None))
    ).scalar_one()
