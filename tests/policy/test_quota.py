"""Quota decisions: limits, reset times in the organisation's zone, the per-minute window."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from mamori.policy.quota import Limits, RateWindow, Subject, next_midnight, next_month, token_breach

TOKYO = ZoneInfo("Asia/Tokyo")
CLERK = Subject("user", "u1", "yamada")


def test_daily_quota_resets_at_tokyo_midnight_not_utc() -> None:
    now = datetime(2026, 12, 5, 16, 30, tzinfo=UTC)  # 01:30 on the 6th in Tokyo
    assert next_midnight(now, TOKYO) == datetime(2026, 12, 7, tzinfo=TOKYO)
    breach = token_breach(
        CLERK, Limits(daily_tokens=100), used_today=100, used_month=100, now=now, zone=TOKYO
    )
    assert breach is not None and breach.rule_id == "quota.user.daily"
    assert "2026-12-07 00:00（Asia/Tokyo）にリセット" in breach.message("ja")
    assert "resets at 2026-12-07 00:00 (Asia/Tokyo)" in breach.message("en")
    assert breach.retry_after(now) == 22 * 3600 + 30 * 60


def test_the_monthly_quota_wins_and_december_rolls_into_january() -> None:
    now = datetime(2026, 12, 31, 10, tzinfo=TOKYO)
    assert next_month(now, TOKYO) == datetime(2027, 1, 1, tzinfo=TOKYO)
    limits = Limits(daily_tokens=10, monthly_tokens=50)
    breach = token_breach(CLERK, limits, used_today=60, used_month=60, now=now, zone=TOKYO)
    assert breach is not None and breach.kind == "monthly"
    under = token_breach(CLERK, limits, used_today=9, used_month=49, now=now, zone=TOKYO)
    assert under is None


def test_the_rate_window_admits_up_to_the_limit_then_says_how_long_to_wait() -> None:
    window = RateWindow()
    for second in (0.0, 10.0):
        assert window.wait_needed(CLERK, 2, second) == 0
        window.admit(CLERK, second)
    assert window.wait_needed(CLERK, 2, 20.0) == 40.0
    assert window.wait_needed(CLERK, 2, 60.5) == 0  # the first one left the window
    assert window.wait_needed(Subject("group", "g", "tax"), 2, 20.0) == 0
    assert window.wait_needed(CLERK, 0, 0.0) == RateWindow.WINDOW  # 0: no requests at all
