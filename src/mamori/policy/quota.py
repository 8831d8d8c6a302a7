"""Quotas: daily and monthly tokens per user and per group, and requests per minute.

Pure decisions on numbers the caller looked up; the pipeline's quota stage does the looking up
and refuses the turn before anything is sent upstream. Days and months follow the
organisation's time zone, so a quota resets at its midnight, not at UTC's.
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo

from mamori.errors import RATE_LIMITED, QuotaExceededError


@dataclass(frozen=True, slots=True)
class Limits:
    """None: no limit of that kind."""

    daily_tokens: int | None = None
    monthly_tokens: int | None = None
    requests_per_minute: int | None = None

    @property
    def any(self) -> bool:
        return any(
            v is not None
            for v in (self.daily_tokens, self.monthly_tokens, self.requests_per_minute)
        )

    @property
    def counts_tokens(self) -> bool:
        return self.daily_tokens is not None or self.monthly_tokens is not None


@dataclass(frozen=True, slots=True)
class Subject:
    """Whose limits: a user or a group, by id and by name (names go into messages)."""

    scope: str  # "user" | "group"
    id: str
    name: str


def day_start(now: datetime, zone: tzinfo) -> date:
    return now.astimezone(zone).date()


def month_start(now: datetime, zone: tzinfo) -> date:
    return now.astimezone(zone).date().replace(day=1)


def next_midnight(now: datetime, zone: tzinfo) -> datetime:
    local = now.astimezone(zone)
    tomorrow = local.date() + timedelta(days=1)
    return datetime(tomorrow.year, tomorrow.month, tomorrow.day, tzinfo=zone)


def next_month(now: datetime, zone: tzinfo) -> datetime:
    local = now.astimezone(zone)
    year, month = (local.year + 1, 1) if local.month == 12 else (local.year, local.month + 1)
    return datetime(year, month, 1, tzinfo=zone)


_KIND_JA = {"daily": "1日の利用上限", "monthly": "1か月の利用上限"}
_KIND_EN = {"daily": "daily token quota", "monthly": "monthly token quota"}
_SCOPE_JA = {"user": "ユーザー", "group": "グループ"}


@dataclass(frozen=True, slots=True)
class Breach:
    """A limit the turn would go over, and when it lifts."""

    subject: Subject
    kind: str  # "daily" | "monthly" | "rpm"
    limit: int
    used: int
    resets_at: datetime
    zone_name: str

    @property
    def rule_id(self) -> str:
        return f"quota.{self.subject.scope}.{self.kind}"

    def retry_after(self, now: datetime) -> int:
        return max(1, math.ceil((self.resets_at - now).total_seconds()))

    def message(self, lang: str) -> str:
        when = self.resets_at.strftime("%Y-%m-%d %H:%M")
        who = self.subject.name
        if self.kind == "rpm":
            if lang == "en":
                return (
                    f"Too many requests: the limit is {self.limit} a minute ({self.subject.scope} "
                    f"{who}). Try again after {self.resets_at.strftime('%H:%M:%S')}."
                )
            return (
                f"1分あたりのリクエスト上限（{_SCOPE_JA[self.subject.scope]}「{who}」："
                f"{self.limit}回）に達しました。{self.resets_at.strftime('%H:%M:%S')} 以降に"
                "もう一度お試しください。"
            )
        if lang == "en":
            return (
                f"The {_KIND_EN[self.kind]} of {self.subject.scope} {who} ({self.limit:,} tokens) "
                f"is used up ({self.used:,} used). It resets at {when} ({self.zone_name})."
            )
        return (
            f"{_SCOPE_JA[self.subject.scope]}「{who}」の{_KIND_JA[self.kind]}"
            f"（{self.limit:,}トークン）に達しました（使用量 {self.used:,}）。"
            f"{when}（{self.zone_name}）にリセットされます。"
        )

    def error(self, lang: str, now: datetime) -> QuotaExceededError:
        code = RATE_LIMITED if self.kind == "rpm" else None
        return QuotaExceededError(self.message(lang), code=code, retry_after=self.retry_after(now))


def token_breach(
    subject: Subject,
    limits: Limits,
    *,
    used_today: int,
    used_month: int,
    now: datetime,
    zone: tzinfo,
) -> Breach | None:
    """The first token limit already reached (the monthly one first: it lasts longer)."""
    name = str(zone)
    if limits.monthly_tokens is not None and used_month >= limits.monthly_tokens:
        resets = next_month(now, zone)
        return Breach(subject, "monthly", limits.monthly_tokens, used_month, resets, name)
    if limits.daily_tokens is not None and used_today >= limits.daily_tokens:
        resets = next_midnight(now, zone)
        return Breach(subject, "daily", limits.daily_tokens, used_today, resets, name)
    return None


class RateWindow:
    """Requests admitted in the last minute, per subject, in this process.

    Counted when a turn is admitted rather than when it is saved: a burst of parallel requests
    would otherwise all pass before the first one finished.
    """

    WINDOW = 60.0

    def __init__(self) -> None:
        self._seen: dict[tuple[str, str], deque[float]] = {}

    def wait_needed(self, subject: Subject, limit: int, now: float) -> float:
        """Seconds until one more request fits (0: it fits now)."""
        seen = self._seen.get((subject.scope, subject.id))
        if not seen:
            return 0.0 if limit > 0 else self.WINDOW
        while seen and seen[0] <= now - self.WINDOW:
            seen.popleft()
        if len(seen) < limit:
            return 0.0
        if limit <= 0 or not seen:
            return self.WINDOW
        return seen[len(seen) - limit] + self.WINDOW - now

    def admit(self, subject: Subject, now: float) -> None:
        self._seen.setdefault((subject.scope, subject.id), deque()).append(now)
