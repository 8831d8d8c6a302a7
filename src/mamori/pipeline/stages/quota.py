"""Stage 0: quotas — refuse a turn over its user's or groups' limits before any upstream call.

First of the prepare stages, so that not even a guard model or a summary is asked for on a
refused turn. The limits are read from the store at most every few seconds (a change made with
the CLI applies within that time); the token counts are read per turn, and only for subjects
that have a token limit, so an installation without quotas pays nothing but a dictionary look-up.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, tzinfo

from mamori.domain.principal import Principal
from mamori.pipeline.turn import ChatTurn
from mamori.policy.quota import (
    Breach,
    Limits,
    RateWindow,
    Subject,
    day_start,
    month_start,
    token_breach,
)
from mamori.store.database import Connection, Database
from mamori.store.repos import quotas, usage


class QuotaStage:
    name = "quota"

    def __init__(
        self,
        db: Database,
        zone: tzinfo,
        user_default: Limits | None = None,
        *,
        refresh_seconds: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.db = db
        self.zone = zone
        self.user_default = user_default or Limits()
        self.refresh_seconds = refresh_seconds
        self.clock = clock
        self.window = RateWindow()
        self._cache: dict[str, tuple[float, list[tuple[Subject, Limits]]]] = {}

    async def prepare(self, turn: ChatTurn) -> None:
        subjects = await self._limits(turn.principal)
        if not subjects:
            return
        now = datetime.now(UTC)
        counted = [(s, lim) for s, lim in subjects if lim.counts_tokens]
        if counted:
            used = await self.db.read(self._used, [s for s, _ in counted], now)
            for subject, limits in counted:
                today, month = used[(subject.scope, subject.id)]
                breach = token_breach(
                    subject, limits, used_today=today, used_month=month, now=now, zone=self.zone
                )
                if breach is not None:
                    self._refuse(turn, breach, now)
        tick = self.clock()
        for subject, limits in subjects:
            rpm = limits.requests_per_minute
            if rpm is None:
                continue
            wait = self.window.wait_needed(subject, rpm, tick)
            if wait > 0:
                resets = datetime.fromtimestamp(now.timestamp() + wait, self.zone)
                self._refuse(turn, Breach(subject, "rpm", rpm, rpm, resets, str(self.zone)), now)
        for subject, limits in subjects:
            if limits.requests_per_minute is not None:
                self.window.admit(subject, tick)

    def _refuse(self, turn: ChatTurn, breach: Breach, now: datetime) -> None:
        turn.quota_breach = breach
        turn.decide(
            self.name,
            "deny",
            breach.rule_id,
            subject=breach.subject.name,
            limit=str(breach.limit),
            used=str(breach.used),
            resets_at=breach.resets_at.isoformat(),
        )
        raise breach.error(turn.principal.locale, now)

    def _used(
        self, conn: Connection, subjects: list[Subject], now: datetime
    ) -> dict[tuple[str, str], tuple[int, int]]:
        today, month = day_start(now, self.zone), month_start(now, self.zone)
        found = {}
        for subject in subjects:
            key = (
                {"user_id": subject.id}
                if subject.scope == quotas.USER
                else {"group_id": subject.id}
            )
            found[(subject.scope, subject.id)] = (
                usage.tokens_since(conn, today, **key),
                usage.tokens_since(conn, month, **key),
            )
        return found

    async def _limits(self, principal: Principal) -> list[tuple[Subject, Limits]]:
        cache_key = principal.user_id + "|" + ",".join(g.id for g in principal.groups)
        cached = self._cache.get(cache_key)
        tick = self.clock()
        if cached is not None and tick - cached[0] < self.refresh_seconds:
            return cached[1]
        rows = await self.db.read(
            quotas.quotas_for, principal.user_id, [g.id for g in principal.groups]
        )
        found: list[tuple[Subject, Limits]] = []
        own = rows.get((quotas.USER, principal.user_id))
        user_limits = _limits(own) if own is not None else self.user_default
        if user_limits.any:
            found.append((Subject(quotas.USER, principal.user_id, principal.username), user_limits))
        for group in principal.groups:
            row = rows.get((quotas.GROUP, group.id))
            if row is not None and _limits(row).any:
                found.append((Subject(quotas.GROUP, group.id, group.name), _limits(row)))
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[cache_key] = (tick, found)
        return found


def _limits(row: quotas.QuotaRow) -> Limits:
    return Limits(row.daily_tokens, row.monthly_tokens, row.requests_per_minute)
