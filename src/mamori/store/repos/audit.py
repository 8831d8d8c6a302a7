"""The audit trail's rows, hash-chained as they are appended (``domain.audit_chain``).

This module only appends, reads and verifies; it offers no update or delete on purpose.
Appends are serialised: SQLite's write transactions already are (``BEGIN IMMEDIATE``), and on
PostgreSQL a transaction-scoped advisory lock makes every writer, in any process, take the
chain's head in turn, so the chain has one order and no fork.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from sqlalchemy import Connection, RowMapping, func, select, text

from mamori.domain.audit import AuditRecord, TurnStatus
from mamori.domain.audit_chain import GENESIS, record_hash
from mamori.domain.classification import Classification
from mamori.store.tables import audit_records

# Any fixed number: the advisory lock that serialises appends to the chain on PostgreSQL.
_CHAIN_LOCK = 0x6D616D6F


def row_to_record(row: RowMapping) -> AuditRecord:
    values: dict[str, Any] = {f.name: row[f.name] for f in dataclasses.fields(AuditRecord)}
    values["classification"] = Classification(values["classification"])
    values["status"] = TurnStatus(values["status"])
    values["usage_estimated"] = bool(values["usage_estimated"])
    values["special_personal"] = bool(values["special_personal"])
    if values["label"] is not None:
        values["label"] = Classification(values["label"])
    return AuditRecord(**values)


def append_audit(conn: Connection, record: AuditRecord) -> int:
    """Store one record and return its sequence number. Raises ``ConflictError`` (through
    ``Database``) if the turn already has a record."""
    values = dataclasses.asdict(record)
    values["classification"] = int(record.classification)
    values["label"] = None if record.label is None else int(record.label)
    values["status"] = record.status.value
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _CHAIN_LOCK})
    head = conn.execute(
        select(audit_records.c.seq, audit_records.c.record_hash)
        .order_by(audit_records.c.seq.desc())
        .limit(1)
    ).first()
    seq = head[0] + 1 if head else 1
    prev = (head[1] or GENESIS) if head else GENESIS
    digest = record_hash(seq, record, prev)
    conn.execute(
        audit_records.insert().values(seq=seq, prev_hash=prev, record_hash=digest, **values)
    )
    return seq


def list_audit(
    conn: Connection, *, limit: int = 100, turn_id: str | None = None, user_id: str | None = None
) -> list[tuple[int, AuditRecord]]:
    """Newest first."""
    query = select(audit_records).order_by(audit_records.c.seq.desc()).limit(limit)
    if turn_id is not None:
        query = query.where(audit_records.c.turn_id == turn_id)
    if user_id is not None:
        query = query.where(audit_records.c.user_id == user_id)
    return [(row["seq"], row_to_record(row)) for row in conn.execute(query).mappings()]


def count_audit(conn: Connection, turn_id: str | None = None) -> int:
    query = select(func.count()).select_from(audit_records)
    if turn_id is not None:
        query = query.where(audit_records.c.turn_id == turn_id)
    return conn.execute(query).scalar_one()


@dataclasses.dataclass(frozen=True, slots=True)
class ChainCheck:
    """What ``verify_chain`` found: how many records, and the first one that does not hold."""

    checked: int
    first_bad: int | None = None
    problem: str = ""

    @property
    def ok(self) -> bool:
        return self.first_bad is None


def verify_chain(
    conn: Connection, *, start: int | None = None, end: int | None = None, batch: int = 2000
) -> ChainCheck:
    """Recompute the chain over ``start..end`` (sequence numbers, inclusive).

    A record that was edited no longer matches its hash; a deleted one leaves a gap in the
    sequence; records moved around no longer link to their predecessor's hash.
    """
    first = start or 1
    expected_prev: str | None = None
    if first > 1:
        before = conn.execute(
            select(audit_records.c.record_hash).where(audit_records.c.seq == first - 1)
        ).first()
        if before is None:
            return ChainCheck(0, first - 1, "the record before the range is missing")
        expected_prev = before[0]
    expected_seq = first
    checked = 0
    while True:
        query = (
            select(audit_records)
            .where(audit_records.c.seq >= expected_seq)
            .order_by(audit_records.c.seq)
            .limit(batch)
        )
        if end is not None:
            query = query.where(audit_records.c.seq <= end)
        rows = conn.execute(query).mappings().all()
        if not rows:
            return ChainCheck(checked)
        for row in rows:
            seq = row["seq"]
            if seq != expected_seq:
                return ChainCheck(checked, expected_seq, f"record {expected_seq} is missing")
            prev = row["prev_hash"]
            if expected_prev is None:
                expected_prev = GENESIS if seq == 1 else prev
            if prev != expected_prev:
                return ChainCheck(checked, seq, "it does not link to the record before it")
            if record_hash(seq, row_to_record(row), prev) != row["record_hash"]:
                return ChainCheck(checked, seq, "its content does not match its hash")
            expected_prev = row["record_hash"]
            expected_seq = seq + 1
            checked += 1
