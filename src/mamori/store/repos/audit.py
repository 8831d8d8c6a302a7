"""The audit trail's rows, hash-chained as they are appended (``domain.audit_chain``).

This module only appends, reads and verifies; it offers no update or delete on purpose.
Appends are serialised: SQLite's write transactions already are (``BEGIN IMMEDIATE``), and on
PostgreSQL a transaction-scoped advisory lock makes every writer, in any process, take the
chain's head in turn, so the chain has one order and no fork.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, RowMapping, func, select, text

from mamori.domain.audit import AuditContent, AuditRecord, TurnStatus
from mamori.domain.audit_chain import GENESIS, record_hash
from mamori.domain.classification import Classification
from mamori.store.repos import audit_content
from mamori.store.tables import audit_records

# Any fixed number: the advisory lock that serialises appends to the chain on PostgreSQL.
_CHAIN_LOCK = 0x6D616D6F


def row_to_record(row: RowMapping) -> AuditRecord:
    # ``get``: a migration reading an older schema has no column for fields added later.
    values: dict[str, Any] = {f.name: row.get(f.name) for f in dataclasses.fields(AuditRecord)}
    values["classification"] = Classification(values["classification"])
    values["status"] = TurnStatus(values["status"])
    values["usage_estimated"] = bool(values["usage_estimated"])
    values["special_personal"] = bool(values["special_personal"])
    if values["label"] is not None:
        values["label"] = Classification(values["label"])
    return AuditRecord(**values)


def append_audit(conn: Connection, record: AuditRecord, content: AuditContent | None = None) -> int:
    """Store one record (and what the turn said, if kept) and return its sequence number.

    Raises ``ConflictError`` (through ``Database``) if the turn already has a record.
    """
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
    if content is not None:
        audit_content.save_content(conn, seq, record, content)
    return seq


def chain_head(conn: Connection) -> tuple[int, str] | None:
    """The newest record's sequence number and hash; None for an empty trail."""
    head = conn.execute(
        select(audit_records.c.seq, audit_records.c.record_hash)
        .order_by(audit_records.c.seq.desc())
        .limit(1)
    ).first()
    return (head[0], head[1]) if head else None


def record_at(conn: Connection, seq: int) -> tuple[AuditRecord, str, str] | None:
    """One record with its previous and own hash."""
    row = conn.execute(select(audit_records).where(audit_records.c.seq == seq)).mappings().first()
    if row is None:
        return None
    return row_to_record(row), row["prev_hash"], row["record_hash"]


@dataclasses.dataclass(frozen=True, slots=True)
class AuditQuery:
    """What auditors search by; every field narrows, None leaves it open."""

    username: str | None = None
    group: str | None = None  # a group name, as the record named the actor's groups
    since: datetime | None = None  # inclusive
    until: datetime | None = None  # exclusive
    model: str | None = None
    decision: str | None = None  # the policy action: allow, reroute, mask_then_allow, deny
    classification: Classification | None = None
    status: TurnStatus | None = None
    action: str | None = None  # chat, reasoning.read, label.raise, ...
    start_seq: int | None = None
    end_seq: int | None = None
    before_seq: int | None = None  # paging: records older than this


def search_audit(
    conn: Connection, query: AuditQuery, *, limit: int = 50, newest_first: bool = True
) -> list[tuple[int, AuditRecord]]:
    columns = audit_records.c
    stmt = select(audit_records)
    conditions = []
    if query.username is not None:
        conditions.append(columns.username == query.username)
    if query.group is not None:
        # Names are comma-separated; match a whole name, never a prefix of another one.
        padded = "," + func.coalesce(columns.groups, "") + ","
        conditions.append(padded.contains(f",{query.group},", autoescape=True))
    if query.since is not None:
        conditions.append(columns.created_at >= query.since)
    if query.until is not None:
        conditions.append(columns.created_at < query.until)
    if query.model is not None:
        conditions.append(columns.model == query.model)
    if query.decision is not None:
        conditions.append(columns.policy_action == query.decision)
    if query.classification is not None:
        conditions.append(columns.classification == int(query.classification))
    if query.status is not None:
        conditions.append(columns.status == query.status.value)
    if query.action is not None:
        conditions.append(columns.action == query.action)
    if query.start_seq is not None:
        conditions.append(columns.seq >= query.start_seq)
    if query.end_seq is not None:
        conditions.append(columns.seq <= query.end_seq)
    if query.before_seq is not None:
        conditions.append(columns.seq < query.before_seq)
    if conditions:
        stmt = stmt.where(*conditions)
    order = columns.seq.desc() if newest_first else columns.seq
    stmt = stmt.order_by(order).limit(limit)
    return [(row["seq"], row_to_record(row)) for row in conn.execute(stmt).mappings()]


def chained_rows(
    conn: Connection, start: int, end: int | None, *, batch: int = 2000
) -> list[tuple[int, str, str, AuditRecord]]:
    """Up to ``batch`` records from ``start`` on, oldest first: (seq, prev hash, hash, record)."""
    query = (
        select(audit_records)
        .where(audit_records.c.seq >= start)
        .order_by(audit_records.c.seq)
        .limit(batch)
    )
    if end is not None:
        query = query.where(audit_records.c.seq <= end)
    return [
        (row["seq"], row["prev_hash"], row["record_hash"], row_to_record(row))
        for row in conn.execute(query).mappings()
    ]


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
    while rows := chained_rows(conn, expected_seq, end, batch=batch):
        for seq, prev, digest, record in rows:
            if seq != expected_seq:
                return ChainCheck(checked, expected_seq, f"record {expected_seq} is missing")
            if expected_prev is None:
                expected_prev = GENESIS if seq == 1 else prev
            if prev != expected_prev:
                return ChainCheck(checked, seq, "it does not link to the record before it")
            if record_hash(seq, record, prev) != digest:
                return ChainCheck(checked, seq, "its content does not match its hash")
            expected_prev = digest
            expected_seq = seq + 1
            checked += 1
    return ChainCheck(checked)
