"""The audit trail's rows. Hash chaining and signed checkpoints live in ``mamori.audit``; this
module only appends and reads, and offers no update or delete on purpose."""

from __future__ import annotations

import dataclasses
from typing import Any

from sqlalchemy import Connection, RowMapping, func, select

from mamori.domain.audit import AuditRecord, TurnStatus
from mamori.domain.classification import Classification
from mamori.store.tables import audit_records


def _row_to_record(row: RowMapping) -> AuditRecord:
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
    result = conn.execute(audit_records.insert().values(**values))
    seq = result.inserted_primary_key
    assert seq is not None
    return int(seq[0])


def list_audit(
    conn: Connection, *, limit: int = 100, turn_id: str | None = None, user_id: str | None = None
) -> list[tuple[int, AuditRecord]]:
    """Newest first."""
    query = select(audit_records).order_by(audit_records.c.seq.desc()).limit(limit)
    if turn_id is not None:
        query = query.where(audit_records.c.turn_id == turn_id)
    if user_id is not None:
        query = query.where(audit_records.c.user_id == user_id)
    return [(row["seq"], _row_to_record(row)) for row in conn.execute(query).mappings()]


def count_audit(conn: Connection, turn_id: str | None = None) -> int:
    query = select(func.count()).select_from(audit_records)
    if turn_id is not None:
        query = query.where(audit_records.c.turn_id == turn_id)
    return conn.execute(query).scalar_one()
