"""The tamper-evident audit trail: hash-chained appends and verification, SQLite and PostgreSQL.

Run from the repository root (``make bench-audit``)::

    .venv/bin/python bench/audit.py [--records 5000] [--only sqlite|postgresql] [--quick]

Appends: writer processes append ``--records`` records in all, each in its own write
transaction through ``Database.write_sync`` as a server does, first with 1 writer, then with 4
at once. Writers are spawned processes, so each has its own interpreter, pool and connection,
like separate server processes; they wait at a barrier once imported and connected, and the
figure is records over the wall time from the first start to the last finish. The reference,
in the same run and on the same database, is as many plain single-row INSERT transactions by 1
writer into a scratch table with the audit table's columns and indexes but no hash columns: no
advisory lock, no head lookup, no hashing.

Verification: ``verify_chain`` over the whole chain after the appends, best of 3, against a
plain SELECT of every row converted with ``row_to_record`` but not hashed.

PostgreSQL runs in a throwaway schema ``mamori_bench_<hex>`` (dropped on exit) on ``--pg-url``,
by default the test server; when it is unreachable the run says so and goes on.

It reports, it does not gate: a missed target exits 0; a writer error or a chain that does not
verify exits 1.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import multiprocessing as mp
import os
import platform
import queue
import secrets
import sqlite3
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from functools import cache
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier
from typing import Any, TypeVar

import psycopg
from sqlalchemy import Column, Connection, Index, MetaData, Table, make_url, select

from mamori.domain.audit import AuditRecord, TurnStatus
from mamori.domain.classification import Classification
from mamori.store import Database, upgrade
from mamori.store.repos.audit import append_audit, row_to_record, verify_chain
from mamori.store.tables import audit_records
from mamori.store.tables.columns import NAMING_CONVENTION

PG_URL = os.environ.get("MAMORI_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
TARGET_SQLITE_1_WRITER = 500.0  # appends/s, from the issue
HASH_COLUMNS = {"prev_hash", "record_hash"}
Outcome = tuple[float, float, str]  # start, finish (perf_counter), error
T = TypeVar("T")


def new_record() -> AuditRecord:
    # Required fields only, by keyword: fields added later default to None.
    return AuditRecord(
        turn_id=uuid.uuid4().hex,
        created_at=datetime.now(UTC),
        user_id="bench-user",
        username="bench",
        api_key_id=None,
        face="api",
        action="chat",
        conversation_id=None,
        model="gpt-oss-120b",
        endpoint="onprem-vllm",
        residency="onprem",
        classification=Classification.C1,
        reasoning_effort="medium",
        prompt_tokens=812,
        completion_tokens=256,
        usage_estimated=False,
        latency_ms=5300,
        ttft_ms=21,
        status=TurnStatus.OK,
        error_code=None,
    )


@cache
def plain_table() -> Table:
    """The audit table's columns and indexes, minus the chain: what an unchained log costs."""
    table = Table(
        "bench_plain_audit",
        MetaData(naming_convention=NAMING_CONVENTION),
        *(
            Column(
                c.name,
                c.type,
                primary_key=c.primary_key,
                nullable=c.nullable,
                unique=c.unique,
                autoincrement=c.autoincrement,
            )
            for c in audit_records.columns
            if c.name not in HASH_COLUMNS
        ),
        sqlite_autoincrement=True,
    )
    for index in audit_records.indexes:
        names = [c.name for c in index.columns]
        if not HASH_COLUMNS.intersection(names):
            Index(f"ix_bench_plain_audit_{'_'.join(names)}", *(table.c[n] for n in names))
    return table


def insert_plain(conn: Connection, record: AuditRecord) -> None:
    table = plain_table()
    values = dataclasses.asdict(record)
    values["classification"] = int(record.classification)
    values["label"] = None if record.label is None else int(record.label)
    values["status"] = record.status.value
    conn.execute(table.insert().values(**{k: v for k, v in values.items() if k in table.c}))


def writer(url: str, count: int, plain: bool, start: Barrier, results: Queue[Outcome]) -> None:
    """One writer process: connect, wait for the others, then append ``count`` records."""
    try:
        db = Database(url)
        db.read_sync(lambda c: c.exec_driver_sql("SELECT 1").scalar())  # connect before timing
        append = insert_plain if plain else append_audit
        start.wait(timeout=120)
        started = time.perf_counter()
        for _ in range(count):
            db.write_sync(append, new_record())
        # perf_counter is CLOCK_MONOTONIC on Linux: one clock for every process.
        results.put((started, time.perf_counter(), ""))
        db.dispose()
    except Exception as exc:
        start.abort()  # nobody waits for a writer that will never arrive
        results.put((0.0, 0.0, f"{type(exc).__name__}: {exc}"))


def timed_writers(url: str, total: int, writers: int, *, plain: bool = False) -> float:
    """Records per second over the wall time of ``writers`` processes appending ``total``."""
    ctx = mp.get_context("spawn")
    start = ctx.Barrier(writers + 1)
    results: Queue[Outcome] = ctx.Queue()
    counts = [total // writers + (i < total % writers) for i in range(writers)]
    procs = [ctx.Process(target=writer, args=(url, n, plain, start, results)) for n in counts]
    for proc in procs:
        proc.start()
    outcomes: list[Outcome] = []
    try:
        with contextlib.suppress(threading.BrokenBarrierError):
            start.wait(timeout=120)
        while len(outcomes) < writers:
            try:
                outcomes.append(results.get(timeout=1))
            except queue.Empty:
                if not any(p.is_alive() for p in procs):
                    break
    finally:
        for proc in procs:
            if proc.is_alive() and len(outcomes) < writers:
                proc.terminate()
            proc.join()
    errors = [error for _, _, error in outcomes if error]
    if errors or len(outcomes) < writers:
        raise RuntimeError(errors[0] if errors else "a writer died without reporting")
    return total / (max(o[1] for o in outcomes) - min(o[0] for o in outcomes))


def best_of(repeat: int, one_pass: Callable[[], T]) -> tuple[float, T]:
    """The shortest of ``repeat`` passes, in seconds, and what the last pass returned."""
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        result = one_pass()
        best = min(best, time.perf_counter() - started)
    return best, result


def plain_scan(conn: Connection) -> int:
    rows = conn.execute(select(audit_records).order_by(audit_records.c.seq)).mappings()
    count = 0
    for row in rows:
        row_to_record(row)
        count += 1
    return count


def bench_backend(url: str, total: int) -> tuple[float, bool]:
    """Print one backend's figures; return the 1-writer append rate and whether all held."""
    db = Database(url)
    try:
        upgrade(db)
        db.write_sync(lambda c: plain_table().create(c))
        # The reference first, so that it and the 1-writer chain both start on an empty table.
        plain = timed_writers(url, total, 1, plain=True)
        chained_1 = timed_writers(url, total, 1)
        chained_4 = timed_writers(url, total, 4)
        for label, rate in (("1 writer: ", chained_1), ("4 writers:", chained_4)):
            ratio = f"{rate / plain:.2f}× plain insert {plain:,.0f} rec/s"
            print(f"  chained append, {label} {rate:7,.0f} rec/s  ({ratio}, 1 writer)")
        scan_s, rows = best_of(3, lambda: db.read_sync(plain_scan))
        verify_s, check = best_of(3, lambda: db.read_sync(verify_chain))
        scan, verified = rows / scan_s, check.checked / verify_s
        ok = check.ok and check.checked == 2 * total
        result = "OK" if ok else f"FAILED at {check.first_bad}: {check.problem or 'count'}"
        print(
            f"  verify_chain, {check.checked:,} records: {verified:,.0f} rec/s"
            f" ({verified / scan:.2f}× plain scan {scan:,.0f} rec/s): {result}"
        )
        return chained_1, ok
    finally:
        db.dispose()


@contextlib.contextmanager
def throwaway_pg_schema(admin: psycopg.Connection[Any], base: str) -> Iterator[str]:
    """A URL whose search_path is a new schema, dropped on exit."""
    schema = f"mamori_bench_{secrets.token_hex(4)}"
    # Commit latency, which bounds one writer's rate, follows the last two.
    shown = []
    for name in ("server_version", "fsync", "synchronous_commit"):
        row = admin.execute(f"SHOW {name}").fetchone()
        shown.append(f"{name}={row[0] if row else '?'}")
    where = make_url(base)
    print(f"PostgreSQL ({where.host}:{where.port}/{where.database}, schema {schema}):")
    print(f"  {', '.join(shown)}")
    admin.execute(f'CREATE SCHEMA "{schema}"')
    try:
        yield f"{base}{'&' if '?' in base else '?'}options=-csearch_path%3D{schema}"
    finally:
        admin.execute(f'DROP SCHEMA "{schema}" CASCADE')


def environment(total: int) -> None:
    load = os.getloadavg()
    print(f"load average before the run: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}")
    model = ""
    with contextlib.suppress(OSError), open("/proc/cpuinfo") as cpuinfo:
        model = next((ln.split(":", 1)[1].strip() for ln in cpuinfo if "model name" in ln), "")
    print("audit trail benchmark: hash-chained appends and verify_chain")
    cores = f"{os.cpu_count()} cores" + (f" ({model})" if model else "")
    print(f"  python {platform.python_version()}, {cores}")
    print(f"  {total:,} records per configuration, shared out when 4 writers append them")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--records", type=int, help="records per configuration (default 5000)")
    parser.add_argument("--only", choices=("sqlite", "postgresql"))
    parser.add_argument("--quick", action="store_true", help="500 records per configuration")
    parser.add_argument("--pg-url", default=PG_URL, help="server and database (default: tests')")
    args = parser.parse_args(argv)
    total = args.records or (500 if args.quick else 5000)
    environment(total)
    began = time.perf_counter()
    healthy, sqlite_rate = True, None
    try:
        if args.only in (None, "sqlite"):
            print(f"\nSQLite {sqlite3.sqlite_version} (temporary file, WAL, synchronous=NORMAL):")
            with tempfile.TemporaryDirectory(prefix="mamori-bench-audit-") as tmp:
                sqlite_rate, ok = bench_backend(f"sqlite:///{tmp}/audit.sqlite3", total)
                healthy &= ok
        if args.only in (None, "postgresql"):
            print()
            conninfo = args.pg_url.replace("postgresql+psycopg://", "postgresql://", 1)
            try:
                admin = psycopg.connect(conninfo, autocommit=True, connect_timeout=3)
            except psycopg.Error as exc:
                print(f"PostgreSQL: skipped ({' '.join(str(exc).split()) or type(exc).__name__})")
            else:
                with admin, throwaway_pg_schema(admin, args.pg_url) as url:
                    healthy &= bench_backend(url, total)[1]
    except RuntimeError as exc:
        print(f"  writer failed: {exc}")
        return 1
    if sqlite_rate is not None:
        verdict = "PASS" if sqlite_rate >= TARGET_SQLITE_1_WRITER else "MISS"
        print(f"\ntarget: chained append on SQLite, 1 writer ≥ {TARGET_SQLITE_1_WRITER:.0f} rec/s:")
        print(f"  {sqlite_rate:,.0f} rec/s {verdict}")
    print(f"\n{time.perf_counter() - began:.0f} s in all")
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(main())
