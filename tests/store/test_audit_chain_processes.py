"""Several processes appending to the audit trail at once, and one killed mid-append, leave
one valid chain, on SQLite and on PostgreSQL."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from mamori.store import Database, upgrade
from mamori.store.repos.audit import count_audit, verify_chain
from tests.conftest import throwaway_pg_schema

# Appends COUNT records as quickly as it can, each in its own transaction, as a server does.
WRITER = """
import sys, uuid
from datetime import UTC, datetime
from mamori.domain.audit import AuditRecord, TurnStatus
from mamori.domain.classification import Classification
from mamori.store import Database
from mamori.store.repos.audit import append_audit

db = Database(sys.argv[1])
for i in range(int(sys.argv[2])):
    record = AuditRecord(
        turn_id=uuid.uuid4().hex, created_at=datetime.now(UTC), user_id="u", username="u",
        api_key_id=None, face="api", action="chat", conversation_id=None, model="m",
        endpoint="e", residency="onprem", classification=Classification.C1,
        reasoning_effort=None, prompt_tokens=1, completion_tokens=1, usage_estimated=False,
        latency_ms=1, ttft_ms=1, status=TurnStatus.OK, error_code=None,
    )
    db.write_sync(lambda c: append_audit(c, record))
    if i == 0:
        print("started", flush=True)
"""


@pytest.fixture(params=["sqlite", "postgresql"])
def url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        path = f"sqlite:///{tmp_path / 'chain.sqlite3'}"
        db = Database(path)
        upgrade(db)
        db.dispose()
        yield path
        return
    with throwaway_pg_schema() as pg:
        db = Database(pg)
        upgrade(db)
        db.dispose()
        yield pg


def writer(url: str, count: int) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).parents[2] / "src")}
    return subprocess.Popen(
        [sys.executable, "-c", WRITER, url, str(count)], stdout=subprocess.PIPE, text=True, env=env
    )


def check(url: str) -> tuple[int, int, bool]:
    db = Database(url)
    try:
        result = db.read_sync(verify_chain)
        return db.read_sync(count_audit), result.checked, result.ok
    finally:
        db.dispose()


def test_four_processes_appending_at_once_make_one_chain(url: str) -> None:
    writers = [writer(url, 500) for _ in range(4)]
    for process in writers:
        assert process.wait(timeout=240) == 0
    assert check(url) == (2000, 2000, True)


def test_a_writer_killed_mid_append_leaves_a_chain_that_verifies(url: str) -> None:
    victim = writer(url, 100_000)
    assert victim.stdout is not None and victim.stdout.readline().strip() == "started"
    time.sleep(0.5)
    victim.send_signal(signal.SIGKILL)
    victim.wait(timeout=30)
    survivor = writer(url, 20)
    assert survivor.wait(timeout=60) == 0
    records, checked, ok = check(url)
    assert ok and checked == records and records > 20
