"""The audit trail's hash chain: every kind of tampering is caught, on both databases."""

from __future__ import annotations

import functools
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Connection, text

from mamori.domain.audit_chain import GENESIS
from mamori.store import Database, upgrade
from mamori.store.repos.audit import append_audit, verify_chain
from tests.conftest import throwaway_pg_schema
from tests.store.test_usage_audit import _record
from tests.support.tamper import tamper


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Database]:
    """An empty, migrated database of its own: tampering must not reach other tests."""
    if request.param == "sqlite":
        db = Database(f"sqlite:///{tmp_path / 'chain.sqlite3'}")
        upgrade(db)
        yield db
        db.dispose()
        return
    with throwaway_pg_schema() as url:
        db = Database(url)
        upgrade(db)
        yield db
        db.dispose()


def fill(db: Database, count: int = 5) -> None:
    start = datetime(2026, 11, 1, tzinfo=UTC)
    for i in range(count):
        record = _record(f"t{i}", "u1", created_at=start + timedelta(seconds=i))
        assert db.write_sync(functools.partial(append_audit, record=record)) == i + 1


def test_an_untouched_trail_verifies_and_starts_from_genesis(fresh: Database) -> None:
    fill(fresh)
    check = fresh.read_sync(verify_chain)
    assert check.ok and check.checked == 5
    first = fresh.read_sync(
        lambda c: c.execute(text("SELECT prev_hash FROM audit_records WHERE seq = 1")).scalar()
    )
    assert first == GENESIS
    assert fresh.read_sync(lambda c: verify_chain(c, start=2, end=4)).checked == 3


def test_an_edited_record_is_named(fresh: Database) -> None:
    fill(fresh)
    fresh.write_sync(tamper, "UPDATE audit_records SET model = 'other' WHERE seq = 3")
    check = fresh.read_sync(verify_chain)
    assert (check.first_bad, check.checked) == (3, 2) and "content" in check.problem


def test_a_deleted_record_is_named(fresh: Database) -> None:
    fill(fresh)
    fresh.write_sync(tamper, "DELETE FROM audit_records WHERE seq = 2")
    check = fresh.read_sync(verify_chain)
    assert check.first_bad == 2 and "missing" in check.problem


def test_reordered_records_are_caught(fresh: Database) -> None:
    fill(fresh)

    # Swap what records 2 and 4 say, hashes and all, as if their order had been changed.
    fresh.write_sync(
        tamper,
        "UPDATE audit_records SET seq = 100 WHERE seq = 2",
        "UPDATE audit_records SET seq = 2 WHERE seq = 4",
        "UPDATE audit_records SET seq = 4 WHERE seq = 100",
    )
    check = fresh.read_sync(verify_chain)
    assert check.first_bad == 2 and check.checked == 1


def test_a_rewritten_hash_does_not_hide_an_edit(fresh: Database) -> None:
    fill(fresh)
    # Editing a record and recomputing its own hash still breaks the link of the next one.
    from mamori.domain.audit_chain import record_hash
    from mamori.store.repos.audit import row_to_record
    from mamori.store.tables import audit_records

    def forge(conn: Connection) -> None:
        tamper(conn, "UPDATE audit_records SET completion_tokens = 1 WHERE seq = 3")
        row = conn.execute(audit_records.select().where(audit_records.c.seq == 3)).mappings().one()
        forged = record_hash(3, row_to_record(row), row["prev_hash"])
        conn.execute(
            audit_records.update().where(audit_records.c.seq == 3).values(record_hash=forged)
        )

    fresh.write_sync(forge)
    check = fresh.read_sync(verify_chain)
    assert check.first_bad == 4 and "link" in check.problem
