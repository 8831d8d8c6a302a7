"""Token usage per turn, the basis for quotas and usage reports.

Each turn that reached an engine is one row (one request), counted for the asker, their API
key, the model, the day in the organisation's time zone, and every group the asker was in at
the time (``usage_groups``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime

from sqlalchemy import Connection, case, func, select

from mamori.store.repos._common import new_id
from mamori.store.tables import groups, usage, usage_groups, users


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
    group_ids: Sequence[str] = (),
) -> None:
    """``day`` is the reporting day; by default the UTC date of ``at``. Pass the local date
    (e.g. in Asia/Tokyo) when daily quotas should reset at local midnight."""
    usage_id = new_id()
    day = day or at.astimezone(UTC).date()
    conn.execute(
        usage.insert().values(
            id=usage_id,
            turn_id=turn_id,
            user_id=user_id,
            api_key_id=api_key_id,
            model=model,
            endpoint=endpoint,
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            estimated=estimated,
            created_at=at,
            day=day,
        )
    )
    if group_ids:
        conn.execute(
            usage_groups.insert(),
            [{"usage_id": usage_id, "group_id": g, "day": day} for g in dict.fromkeys(group_ids)],
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


def tokens_since(
    conn: Connection, first_day: date, *, user_id: str | None = None, group_id: str | None = None
) -> int:
    """Prompt plus completion tokens from ``first_day`` on, for one user or one group."""
    total = func.coalesce(func.sum(usage.c.prompt_tokens + usage.c.completion_tokens), 0)
    query = select(total).where(usage.c.day >= first_day)
    if user_id is not None:
        query = query.where(usage.c.user_id == user_id)
    if group_id is not None:
        query = query.join(usage_groups, usage_groups.c.usage_id == usage.c.id).where(
            usage_groups.c.group_id == group_id, usage_groups.c.day >= first_day
        )
    return int(conn.execute(query).scalar_one())


@dataclass(frozen=True, slots=True)
class UsageTotal:
    """One day's usage of one model by one user (through one API key, or the workspace)."""

    day: date
    user_id: str
    username: str | None  # None: the account was deleted since
    api_key_id: str | None
    model: str
    requests: int
    prompt_tokens: int
    completion_tokens: int
    estimated: int  # how many of the requests had their tokens estimated

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


def usage_totals(
    conn: Connection,
    first_day: date,
    last_day: date,
    *,
    user_id: str | None = None,
    group_id: str | None = None,
) -> list[UsageTotal]:
    """Totals per day, user, API key and model over ``first_day..last_day`` (inclusive)."""
    keys = (usage.c.day, usage.c.user_id, usage.c.api_key_id, usage.c.model)
    query = (
        select(
            *keys,
            users.c.username,
            func.count().label("requests"),
            func.sum(usage.c.prompt_tokens).label("prompt_tokens"),
            func.sum(usage.c.completion_tokens).label("completion_tokens"),
            func.sum(case((usage.c.estimated, 1), else_=0)).label("estimated"),
        )
        .select_from(usage.outerjoin(users, users.c.id == usage.c.user_id))
        .where(usage.c.day >= first_day, usage.c.day <= last_day)
        .group_by(*keys, users.c.username)
        .order_by(*keys)
    )
    if user_id is not None:
        query = query.where(usage.c.user_id == user_id)
    if group_id is not None:
        query = query.join(usage_groups, usage_groups.c.usage_id == usage.c.id).where(
            usage_groups.c.group_id == group_id
        )
    return [
        UsageTotal(
            day=row["day"],
            user_id=row["user_id"],
            username=row["username"],
            api_key_id=row["api_key_id"],
            model=row["model"],
            requests=int(row["requests"]),
            prompt_tokens=int(row["prompt_tokens"] or 0),
            completion_tokens=int(row["completion_tokens"] or 0),
            estimated=int(row["estimated"] or 0),
        )
        for row in conn.execute(query).mappings()
    ]


@dataclass(frozen=True, slots=True)
class GroupTotal:
    group_id: str
    name: str | None  # None: the group was deleted since
    requests: int
    prompt_tokens: int
    completion_tokens: int


def group_totals(conn: Connection, first_day: date, last_day: date) -> list[GroupTotal]:
    """Totals per group over ``first_day..last_day`` (inclusive), as counted when each turn ran.

    A member of two groups counts for both, so the groups' totals may add up to more than
    the whole.
    """
    query = (
        select(
            usage_groups.c.group_id,
            groups.c.name,
            func.count().label("requests"),
            func.sum(usage.c.prompt_tokens).label("prompt_tokens"),
            func.sum(usage.c.completion_tokens).label("completion_tokens"),
        )
        .select_from(
            usage_groups.join(usage, usage.c.id == usage_groups.c.usage_id).outerjoin(
                groups, groups.c.id == usage_groups.c.group_id
            )
        )
        .where(usage_groups.c.day >= first_day, usage_groups.c.day <= last_day)
        .group_by(usage_groups.c.group_id, groups.c.name)
        .order_by(groups.c.name, usage_groups.c.group_id)
    )
    return [
        GroupTotal(
            group_id=row["group_id"],
            name=row["name"],
            requests=int(row["requests"]),
            prompt_tokens=int(row["prompt_tokens"] or 0),
            completion_tokens=int(row["completion_tokens"] or 0),
        )
        for row in conn.execute(query).mappings()
    ]
