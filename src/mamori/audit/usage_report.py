"""Monthly usage reports, the same for the usage page, its CSV download and
`mamori usage report`: which month, whose usage, and the rows and totals.

Days are calendar days in the organisation's time zone, as usage was counted.
"""

from __future__ import annotations

import calendar
import csv
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import IO, Any

from mamori.domain.principal import Principal
from mamori.errors import InvalidRequestError, NotFoundError
from mamori.store.database import Connection
from mamori.store.repos import groups, users
from mamori.store.repos.usage import GroupTotal, UsageTotal

CSV_COLUMNS = (
    "day",
    "user",
    "api_key_id",
    "model",
    "requests",
    "prompt_tokens",
    "completion_tokens",
    "total_tokens",
    "estimated_requests",
)


def may_see_everyone(principal: Principal) -> bool:
    """Everyone sees their own usage; administrators and auditors see anyone's."""
    return principal.is_admin or principal.is_auditor


@dataclass(frozen=True, slots=True)
class Month:
    first: date
    last: date

    @property
    def name(self) -> str:
        return self.first.strftime("%Y-%m")

    @classmethod
    def of(cls, day: date) -> Month:
        first = day.replace(day=1)
        return cls(first, first.replace(day=calendar.monthrange(first.year, first.month)[1]))

    @classmethod
    def parse(cls, text: str) -> Month:
        try:
            year, month = (int(part) for part in text.split("-"))
            return cls.of(date(year, month, 1))
        except ValueError:
            raise InvalidRequestError(f"{text!r} is not a month (YYYY-MM)") from None

    def days(self) -> list[date]:
        return [self.first + timedelta(days=n) for n in range((self.last - self.first).days + 1)]


@dataclass(frozen=True, slots=True)
class Subject:
    """Whose usage: everyone's (both None), one user's, or one group's members'."""

    user_id: str | None = None
    group_id: str | None = None


def subject_named(conn: Connection, *, group: str | None, user: str | None) -> Subject:
    if group:
        found = groups.get_group_by_name(conn, group)
        if found is None:
            raise NotFoundError(f"no group named {group!r}")
        return Subject(group_id=found.id)
    if user:
        row = users.get_user_by_username(conn, user)
        if row is None:
            raise NotFoundError(f"no user named {user!r}")
        return Subject(user_id=row.id)
    return Subject()


def write_csv(out: IO[str], rows: Iterable[UsageTotal]) -> None:
    """One row per day, user, API key (empty: the workspace) and model."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(CSV_COLUMNS)
    for row in rows:
        writer.writerow(
            [
                row.day.isoformat(),
                row.username or row.user_id,
                row.api_key_id or "",
                row.model,
                row.requests,
                row.prompt_tokens,
                row.completion_tokens,
                row.total_tokens,
                row.estimated,
            ]
        )


def _counts(key: str, table: dict[str, list[int]]) -> list[dict[str, Any]]:
    return [
        {key: name, "requests": n[0], "prompt_tokens": n[1], "completion_tokens": n[2]}
        for name, n in sorted(table.items())
    ]


def summary(
    month: Month, rows: Iterable[UsageTotal], by_group: Iterable[GroupTotal] = ()
) -> dict[str, Any]:
    """Requests and tokens per day (every day of the month, zeros included), per model, per
    user and, when given, per group."""
    per_day = {day: [0, 0] for day in month.days()}
    per_user: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    per_model: dict[str, list[int]] = defaultdict(lambda: [0, 0, 0])
    for row in rows:
        per_day[row.day][0] += row.requests
        per_day[row.day][1] += row.total_tokens
        for bucket in (per_user[row.username or row.user_id], per_model[row.model]):
            bucket[0] += row.requests
            bucket[1] += row.prompt_tokens
            bucket[2] += row.completion_tokens
    groups_seen = {
        g.name or g.group_id: [g.requests, g.prompt_tokens, g.completion_tokens] for g in by_group
    }
    return {
        "month": month.name,
        "days": [{"day": d, "requests": r, "tokens": t} for d, (r, t) in per_day.items()],
        "total_tokens": sum(t for _, t in per_day.values()),
        "total_requests": sum(r for r, _ in per_day.values()),
        "by_model": _counts("model", per_model),
        "by_user": _counts("username", per_user),
        "by_group": _counts("group", groups_seen),
    }
