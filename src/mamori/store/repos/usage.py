"""Token usage per turn, the basis for quotas and usage reports."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import Connection, select

from mamori.store.repos._common import new_id
from mamori.store.tables import usage


@dataclass(frozen=True, slots=True)
class UsageRow:
    id: str
    turn_id: str
    user_id: str
    api_key_id: str | None
    model: str
    endpoint: str | None
    prompt_tokens: int
    completion_tokens: int
    estimated: bool
    created_at: datetime
    day: date


def record_usage(
    conn: Connection,
    *,
    turn_id: str,
    user_id: str,
    api_key_id: str | None,
    model: str,
    endpoint: str | None,
    prompt_tokens: int,
    completion_tokens: int,
    estimated: bool,
    at: datetime,
    day: date | None = None,
) -> None:
    """``day`` is the reporting day; by default the UTC date of ``at``. Pass the local date
    (e.g. in Asia/Tokyo) when daily quotas should reset at local midnight."""
    conn.execute(
        usage.insert().values(
            id=new_id(),
            turn_id=turn_id,
            user_id=user_id,
            api_key_id=api_key_id,
            model=model,
            endpoint=endpoint,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            estimated=estimated,
            created_at=at,
            day=day or at.astimezone(UTC).date(),
        )
    )


def list_usage(
    conn: Connection, *, user_id: str | None = None, turn_id: str | None = None, limit: int = 1000
) -> list[UsageRow]:
    query = select(usage).order_by(usage.c.created_at, usage.c.id).limit(limit)
    if user_id is not None:
        query = query.where(usage.c.user_id == user_id)
    if turn_id is not None:
        query = query.where(usage.c.turn_id == turn_id)
    return [
        UsageRow(**{**row, "estimated": bool(row["estimated"])})
        for row in conn.execute(query).mappings()
    ]
