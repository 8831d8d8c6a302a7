"""Quota settings per user and per group (``scope`` "user" or "group")."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, select, tuple_

from mamori.store.tables import quotas

USER = "user"
GROUP = "group"


@dataclass(frozen=True, slots=True)
class QuotaRow:
    scope: str
    subject_id: str
    daily_tokens: int | None
    monthly_tokens: int | None
    requests_per_minute: int | None


def set_quota(
    conn: Connection,
    scope: str,
    subject_id: str,
    *,
    daily_tokens: int | None,
    monthly_tokens: int | None,
    requests_per_minute: int | None,
) -> None:
    """Replace the subject's limits; all None removes them."""
    conn.execute(quotas.delete().where(quotas.c.scope == scope, quotas.c.subject_id == subject_id))
    if daily_tokens is None and monthly_tokens is None and requests_per_minute is None:
        return
    conn.execute(
        quotas.insert().values(
            scope=scope,
            subject_id=subject_id,
            daily_tokens=daily_tokens,
            monthly_tokens=monthly_tokens,
            requests_per_minute=requests_per_minute,
        )
    )


def quotas_for(
    conn: Connection, user_id: str, group_ids: Sequence[str]
) -> dict[tuple[str, str], QuotaRow]:
    """The limits set for this user and these groups, by (scope, subject id)."""
    wanted = [(USER, user_id), *((GROUP, g) for g in group_ids)]
    query = select(quotas).where(tuple_(quotas.c.scope, quotas.c.subject_id).in_(wanted))
    return {
        (row["scope"], row["subject_id"]): QuotaRow(**row) for row in conn.execute(query).mappings()
    }


def get_quota(conn: Connection, scope: str, subject_id: str) -> QuotaRow | None:
    query = select(quotas).where(quotas.c.scope == scope, quotas.c.subject_id == subject_id)
    row = conn.execute(query).mappings().first()
    return None if row is None else QuotaRow(**row)
