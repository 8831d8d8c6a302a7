"""`mamori usage report` and `mamori quota set|show`: tokens and requests, and their limits."""

from __future__ import annotations

import sys

import click

from mamori.audit.usage_report import Month, Subject, subject_named, write_csv
from mamori.cli_support import _database, _settings
from mamori.errors import InvalidRequestError, NotFoundError
from mamori.store.database import Connection
from mamori.store.repos import quotas, usage


def _month(value: str) -> Month:
    try:
        return Month.parse(value)
    except InvalidRequestError as exc:
        raise click.BadParameter(str(exc)) from exc


def _subject(conn: Connection, *, group: str | None, user: str | None) -> Subject:
    try:
        return subject_named(conn, group=group, user=user)
    except NotFoundError as exc:
        raise click.ClickException(str(exc)) from exc


@click.group("usage")
def usage_group() -> None:
    """Token and request counts per user, group, model and day."""


@usage_group.command("report")
@click.option("--month", required=True, help="YYYY-MM, days in the configured time zone.")
@click.option("--group", default=None, help="Only members' usage, as counted for this group.")
@click.option("--user", default=None, help="Only this user's usage.")
def usage_report(month: str, group: str | None, user: str | None) -> None:
    """CSV: one row per day, user, API key (empty: the workspace) and model."""
    span = _month(month)
    db = _database(_settings(), upgrade=False)

    def read(conn: Connection) -> list[usage.UsageTotal]:
        subject = _subject(conn, group=group, user=user)
        return usage.usage_totals(
            conn, span.first, span.last, user_id=subject.user_id, group_id=subject.group_id
        )

    write_csv(sys.stdout, db.read_sync(read))


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
        scope = quotas.GROUP if subject.group_id else quotas.USER
        quotas.set_quota(
            conn,
            scope,
            subject.group_id or subject.user_id or "",
            daily_tokens=daily_tokens,
            monthly_tokens=monthly_tokens,
            requests_per_minute=requests_per_minute,
        )

    db.write_sync(write)
    click.echo(
        f"{'group' if group else 'user'} {group or user}: daily {daily_tokens}, "
        f"monthly {monthly_tokens}, per minute {requests_per_minute} (None: no limit)"
    )
