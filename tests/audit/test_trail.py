"""Signed checkpoints, exports verified offline, and retention, on SQLite and PostgreSQL."""

from __future__ import annotations

import functools
import io
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson

from mamori.audit.checkpoints import Checkpointer
from mamori.audit.export import resolve_range, write_csv, write_jsonl
from mamori.audit.offline import verify_export
from mamori.audit.retention import PURGE_ACTION, purge_expired
from mamori.audit.signing import load_or_create_signer
from mamori.audit.verify import read_checkpoint_file, verify_trail
from mamori.domain.audit import AuditContent
from mamori.domain.audit_chain import content_hash
from mamori.store import Database
from mamori.store.repos import audit_content
from mamori.store.repos.audit import AuditQuery, append_audit, search_audit
from tests.store.test_audit_chain import fill, fresh
from tests.store.test_usage_audit import _record
from tests.support.tamper import tamper

__all__ = ["fresh"]


def checkpointer(db: Database, tmp_path: Path) -> Checkpointer:
    signer = load_or_create_signer(tmp_path / "key.pem")
    return Checkpointer(db, signer, file=tmp_path / "checkpoints.jsonl")


async def test_truncation_after_a_checkpoint_is_named(fresh: Database, tmp_path: Path) -> None:
    fill(fresh, 6)
    signing = checkpointer(fresh, tmp_path)
    made = (await signing.checkpoint()).checkpoint
    assert made is not None and made.seq == 6
    assert (await signing.checkpoint()).checkpoint is None  # nothing new to sign
    assert (await signing.verify_all()).ok
    fresh.write_sync(tamper, "DELETE FROM audit_records WHERE seq >= 5")
    # The shorter chain is still a valid chain: only the checkpoint shows what is missing.
    check = await signing.verify_all()
    assert not check.ok and check.first_bad == 5 and "truncated" in check.problem


async def test_a_deleted_checkpoint_row_is_still_caught_from_the_file(
    fresh: Database, tmp_path: Path
) -> None:
    fill(fresh, 4)
    signing = checkpointer(fresh, tmp_path)
    await signing.checkpoint()
    fresh.write_sync(
        tamper, "DELETE FROM audit_checkpoints", "DELETE FROM audit_records WHERE seq = 4"
    )
    external = read_checkpoint_file(tmp_path / "checkpoints.jsonl")
    check = fresh.read_sync(lambda c: verify_trail(c, signing.keys, external=external))
    assert check.first_bad == 4 and "truncated" in check.problem


async def test_a_checkpoint_signed_by_another_key_does_not_count(
    fresh: Database, tmp_path: Path
) -> None:
    fill(fresh, 3)
    forger = Checkpointer(fresh, load_or_create_signer(tmp_path / "other.pem"), file=None)
    await forger.checkpoint()
    check = await checkpointer(fresh, tmp_path).verify_all()
    assert check.first_bad == 3 and "unknown key" in check.problem


async def test_an_export_verifies_offline_and_an_edited_line_does_not(
    fresh: Database, tmp_path: Path
) -> None:
    fill(fresh, 5)
    signing = checkpointer(fresh, tmp_path)
    await signing.checkpoint()
    fill_more = _record("late", "u2", created_at=datetime(2026, 11, 2, tzinfo=UTC))
    fresh.write_sync(functools.partial(append_audit, record=fill_more))
    out = io.BytesIO()
    keys = [signing.signer.public]
    count = fresh.read_sync(lambda c: write_jsonl(c, out, resolve_range(c, start=2), keys))
    assert count == 5
    lines = out.getvalue().splitlines()
    assert orjson.loads(lines[0])["from_seq"] == 2
    check = verify_export(lines, [signing.signer.public])
    assert check.ok and (check.records, check.checkpoints) == (5, 1)
    edited = [
        line.replace(b'"username":"\xe5\xb1\xb1\xe7\x94\xb0"', b'"username":"x"') for line in lines
    ]
    assert edited != lines
    assert verify_export(edited, keys).first_bad == 2
    assert verify_export(lines[:3] + lines[4:], keys).first_bad == 4  # a line left out
    records_only = [line for line in lines if b'"type":"record"' not in line]
    assert verify_export(records_only, keys).first_bad == 2  # every record left out


async def test_a_date_range_becomes_a_run_of_consecutive_records(fresh: Database) -> None:
    fill(fresh, 5)  # one second apart from 2026-11-01 00:00 UTC
    since = datetime(2026, 11, 1, 0, 0, 1, tzinfo=UTC)
    span = fresh.read_sync(
        lambda c: resolve_range(c, since=since, until=since + timedelta(seconds=3))
    )
    assert (span.start, span.end) == (2, 4)


async def test_csv_rows_carry_the_hashed_encoding(fresh: Database) -> None:
    fill(fresh, 2)
    out, sidecar = io.BytesIO(), io.BytesIO()
    fresh.read_sync(lambda c: write_csv(c, out, sidecar, resolve_range(c), []))
    text = out.getvalue().decode("utf-8-sig").splitlines()
    assert text[0].startswith("seq,turn_id") and len(text) == 3
    assert orjson.loads(sidecar.getvalue().splitlines()[0])["format"] == "mamori-audit-export"


async def test_a_purge_drops_expired_content_and_the_chain_still_verifies(
    fresh: Database, tmp_path: Path
) -> None:
    now = datetime.now(UTC)
    for name, days in (("old", -1), ("new", 30)):
        record = _record(name, "u1", prompt_hash=content_hash("質問"))
        kept = AuditContent("質問", "回答", None, expires_at=now + timedelta(days=days))
        fresh.write_sync(append_audit, record, kept)
    assert await purge_expired(fresh, now) == 1
    old, new = (fresh.read_sync(audit_content.get_content, seq) for seq in (1, 2))
    assert old is not None and old.prompt is None and old.purged_at is not None
    assert new is not None and new.prompt == "質問"
    assert (await checkpointer(fresh, tmp_path).verify_all()).ok
    [(_, purge)] = fresh.read_sync(search_audit, AuditQuery(action=PURGE_ACTION))
    assert purge.subject == "1"
    assert await purge_expired(fresh, now) == 0  # nothing more, and no empty purge record
