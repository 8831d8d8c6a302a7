"""`mamori audit ...`: verify, checkpoint, export and purge the tamper-evident audit trail."""

from __future__ import annotations

import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import click

from mamori.audit.checkpoints import CHECKPOINT_FILE, Checkpointer
from mamori.audit.export import resolve_range, write_csv, write_jsonl
from mamori.audit.offline import verify_export
from mamori.audit.retention import Retention, purge_deleted_conversations, purge_expired
from mamori.audit.signing import PublicKey, load_or_create_signer, trusted_keys
from mamori.audit.verify import read_checkpoint_file, verify_trail
from mamori.cli_support import _database, _run, _settings
from mamori.settings import Settings
from mamori.store.database import Connection


@click.group("audit")
def audit_group() -> None:
    """Check, export and purge the tamper-evident audit trail."""


def _keys(settings: Settings) -> dict[str, PublicKey]:
    path = settings.resolved_signing_key
    signer = load_or_create_signer(path) if path.exists() else None
    return trusted_keys(signer, settings.audit_trusted_keys)


def _moment(value: str | None, settings: Settings, *, end: bool = False) -> datetime | None:
    """A date (YYYY-MM-DD, the organisation's day; ``end``: the day after) or an ISO time."""
    if value is None:
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter(f"{value!r} is not a date (YYYY-MM-DD) or a time") from exc
    if len(value) == 10 and end:  # a whole day: up to the next midnight, exclusive
        parsed += timedelta(days=1)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=settings.zone)


@audit_group.command("verify")
@click.option("--from", "start", type=int, default=None, help="First sequence number.")
@click.option("--to", "end", type=int, default=None, help="Last sequence number.")
def audit_verify(start: int | None, end: int | None) -> None:
    """Recompute every record's hash and link, and check every signed checkpoint; exit 1
    naming the first record that fails.

    An edited record no longer matches its hash, a deleted one leaves a gap, a reordered one no
    longer links to its predecessor, and records cut off the end are missing from a checkpoint.
    """
    settings = _settings()
    db = _database(settings, upgrade=False)
    external = read_checkpoint_file(settings.data_dir / CHECKPOINT_FILE)
    keys = _keys(settings)
    check = db.read_sync(
        lambda conn: verify_trail(conn, keys, start=start, end=end, external=external)
    )
    if check.ok:
        click.echo(
            f"ok: {check.checked} records verify, {check.checkpoints} signed checkpoints hold "
            "/ 改ざんは検出されませんでした"
        )
        return
    click.echo(
        f"FAILED at record {check.first_bad}: {check.problem} / 記録 {check.first_bad} で不整合",
        err=True,
    )
    sys.exit(1)


@audit_group.command("checkpoint")
def audit_checkpoint() -> None:
    """Verify the records since the last checkpoint and sign the chain's head now."""
    settings = _settings()
    db = _database(settings)
    signer = load_or_create_signer(settings.resolved_signing_key)
    checkpointer = Checkpointer(
        db,
        signer,
        file=settings.data_dir / CHECKPOINT_FILE,
        extra_keys=settings.audit_trusted_keys,
    )
    result = _run(checkpointer.checkpoint())
    if not result.verification.ok:
        click.echo(f"FAILED at record {result.verification.first_bad}", err=True)
        sys.exit(1)
    made = result.checkpoint
    click.echo(f"checkpoint at record {made.seq}" if made else "nothing new to sign")
    click.echo(f"key id: {signer.key_id}")


@audit_group.command("export")
@click.option("--from", "since", default=None, help="First day (YYYY-MM-DD) or time.")
@click.option("--to", "until", default=None, help="Last day (YYYY-MM-DD, inclusive) or time.")
@click.option("--format", "fmt", type=click.Choice(["jsonl", "csv"]), default="jsonl")
@click.option("--output", "-o", type=click.Path(dir_okay=False, path_type=Path), default=None)
@click.option("--with-content", is_flag=True, help="Include kept prompts and answers.")
def audit_export(
    since: str | None, until: str | None, fmt: str, output: Path | None, with_content: bool
) -> None:
    """Write records with what an outside party needs to verify them offline.

    CSV goes with a sidecar OUTPUT.verify.jsonl holding the public key and the checkpoints.
    """
    settings = _settings()
    db = _database(settings, upgrade=False)
    keys = list(_keys(settings).values())
    start, stop = _moment(since, settings), _moment(until, settings, end=True)
    if fmt == "csv" and output is None:
        raise click.UsageError("--format csv needs --output (it writes a sidecar beside it)")
    out = output.open("wb") if output else sys.stdout.buffer
    try:

        def write(conn: Connection) -> int:
            span = resolve_range(conn, since=start, until=stop)
            if fmt == "jsonl":
                return write_jsonl(conn, out, span, keys, with_content=with_content)
            assert output is not None
            with output.with_name(output.name + ".verify.jsonl").open("wb") as sidecar:
                return write_csv(conn, out, sidecar, span, keys)

        count = db.read_sync(write)
    finally:
        if output:
            out.close()
    click.echo(f"exported {count} records", err=True)


@audit_group.command("verify-export")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--key", "key_hex", multiple=True, help="Trusted public key (hex), repeatable.")
def audit_verify_export(path: Path, key_hex: tuple[str, ...]) -> None:
    """Verify a JSON-lines export on its own: no database, only the file and a trusted key."""
    trusted = [PublicKey.from_hex(k) for k in key_hex] or None
    with path.open("rb") as lines:
        check = verify_export(lines, trusted)
    if not check.ok:
        click.echo(f"FAILED at record {check.first_bad}: {check.problem}", err=True)
        sys.exit(1)
    click.echo(f"ok: {check.records} records, {check.checkpoints} checkpoints verify")
    if check.untrusted_keys:
        click.echo(
            "warning: checkpoints were checked with the key(s) the file names "
            f"({', '.join(check.untrusted_keys)}); compare with a fingerprint you trust, or "
            "pass --key",
            err=True,
        )


@audit_group.command("purge")
def audit_purge() -> None:
    """Drop the content of records past their retention (the records and hashes stay), and
    the conversations deleted longer ago than their class's retention."""
    settings = _settings()
    db = _database(settings)
    now = datetime.now(UTC)
    purged = _run(purge_expired(db, now))
    retention = Retention(settings.audit_keep_content, settings.audit_content_retention_days)
    removed = _run(purge_deleted_conversations(db, retention, now))
    click.echo(f"purged the content of {purged} records and {removed} deleted conversations")
