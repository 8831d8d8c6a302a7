"""`mamori usage report` and `mamori quota set|show`: tokens and requests, and their limits."""

from __future__ import annotations

import calendar
import csv
import sys
from datetime import date

import click

from mamori.cli_support import _database, _settings
from mamori.store.database import Connection
from mamori.store.repos import groups, quotas, usage, users

CSV_COLUMNS = [
    "day",
    "user",
    "api_key_id",
    "model",
    "requests",
    "prompt_tokens",
    "completion_tokens",
    "total_tokens",
    "estimated_requests",
]


def _month(value: str) -> tuple[date, date]:
    try:
        year, month = (int(part) for part in value.split("-"))
        first = date(year, month, 1)
    except ValueError as exc:
        raise click.BadParameter(f"{value!r} is not a month (YYYY-MM)") from exc
    return first, first.replace(day=calendar.monthrange(year, month)[1])


def _subject(conn: Connection, *, group: str | None, user: str | None) -> dict[str, str]:
    if group is not None:
        found = groups.get_group_by_name(conn, group)
        if found is None:
            raise click.ClickException(f"no group named {group!r}")
        return {"group_id": found.id}
    if user is not None:
        row = users.get_user_by_username(conn, user)
        if row is None:
            raise click.ClickException(f"no user named {user!r}")
        return {"user_id": row.id}
    return {}


@click.group("usage")
def usage_group() -> None:
    """Token and request counts per user, group, model and day."""


@usage_group.command("report")
@click.option("--month", required=True, help="YYYY-MM, days in the configured time zone.")
@click.option("--group", default=None, help="Only members' usage, as counted for this group.")
@click.option("--user", default=None, help="Only this user's usage.")
def usage_report(month: str, group: str | None, user: str | None) -> None:
    """CSV: one row per day, user, API key (empty: the workspace) and model."""
    first, last = _month(month)
    db = _database(_settings(), upgrade=False)

    def read(conn: Connection) -> list[usage.UsageTotal]:
        return usage.usage_totals(conn, first, last, **_subject(conn, group=group, user=user))

    rows = db.read_sync(read)
    writer = csv.writer(sys.stdout, lineterminator="\n")
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


@click.group("quota")
def quota_group() -> None:
    """Daily and monthly token quotas and requests per minute, per user or group."""


@quota_group.command("set")
@click.option("--group", default=None)
@click.option("--user", default=None)
@click.option("--daily-tokens", type=click.IntRange(min=0), default=None)
@click.option("--monthly-tokens", type=click.IntRange(min=0), default=None)
@click.option("--rpm", "requests_per_minute", type=click.IntRange(min=0), default=None)
def quota_set(
    group: str | None,
    user: str | None,
    daily_tokens: int | None,
    monthly_tokens: int | None,
    requests_per_minute: int | None,
) -> None:
    """Replace the limits of one user or group; no limit options removes them."""
    if (group is None) == (user is None):
        raise click.UsageError("name exactly one of --group or --user")
    db = _database(_settings())

    def write(conn: Connection) -> None:
        subject = _subject(conn, group=group, user=user)
        scope = quotas.GROUP if "group_id" in subject else quotas.USER
        quotas.set_quota(
            conn,
            scope,
            next(iter(subject.values())),
            daily_tokens=daily_tokens,
            monthly_tokens=monthly_tokens,
            requests_per_minute=requests_per_minute,
        )

    db.write_sync(write)
    click.echo(
        f"{'group' if group else 'user'} {group or user}: daily {daily_tokens}, "
        f"monthly {monthly_tokens}, per minute {requests_per_minute} (None: no limit)"
    )
