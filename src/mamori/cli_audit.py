"""`mamori audit verify`: recompute the audit trail's hash chain and name the first bad record."""

from __future__ import annotations

import sys

import click

from mamori.cli_support import _database, _settings
from mamori.store.repos.audit import verify_chain


@click.group("audit")
def audit_group() -> None:
    """Check the tamper-evident audit trail."""


@audit_group.command("verify")
@click.option("--from", "start", type=int, default=None, help="First sequence number.")
@click.option("--to", "end", type=int, default=None, help="Last sequence number.")
def audit_verify(start: int | None, end: int | None) -> None:
    """Recompute every record's hash and link; exit 1 naming the first record that fails.

    An edited record no longer matches its hash, a deleted one leaves a gap, and a reordered
    one no longer links to its predecessor.
    """
    db = _database(_settings(), upgrade=False)
    check = db.read_sync(lambda conn: verify_chain(conn, start=start, end=end))
    if check.ok:
        click.echo(f"ok: {check.checked} records verify / 改ざんは検出されませんでした")
        return
    click.echo(
        f"FAILED at record {check.first_bad}: {check.problem} "
        f"({check.checked} records before it verify) / 記録 {check.first_bad} で不整合",
        err=True,
    )
    sys.exit(1)
