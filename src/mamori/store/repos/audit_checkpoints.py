"""Signed checkpoints of the audit chain's head, and the record of each verification run."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, RowMapping, select

from mamori.store.tables import audit_checkpoints, audit_verifications


@dataclass(frozen=True, slots=True)
class Checkpoint:
    seq: int
    record_hash: str
    created_at: datetime
    key_id: str
    signature: str
    id: int | None = None


@dataclass(frozen=True, slots=True)
class Verification:
    at: datetime
    start_seq: int
    end_seq: int | None
    checked: int
    first_bad: int | None
    problem: str | None
    checkpoint_id: int | None

    @property
    def ok(self) -> bool:
        return self.first_bad is None


def add_checkpoint(conn: Connection, checkpoint: Checkpoint) -> int:
    result = conn.execute(
        audit_checkpoints.insert().values(
            seq=checkpoint.seq,
            record_hash=checkpoint.record_hash,
            created_at=checkpoint.created_at,
            key_id=checkpoint.key_id,
            signature=checkpoint.signature,
        )
    )
    primary = result.inserted_primary_key
    assert primary is not None
    return int(primary[0])


def _checkpoint(row: RowMapping) -> Checkpoint:
    return Checkpoint(
        seq=row["seq"],
        record_hash=row["record_hash"],
        created_at=row["created_at"],
        key_id=row["key_id"],
        signature=row["signature"],
        id=row["id"],
    )


def list_checkpoints(
    conn: Connection, *, start: int | None = None, end: int | None = None
) -> list[Checkpoint]:
    """Oldest first; only those whose position lies in ``start..end`` when given."""
    query = select(audit_checkpoints).order_by(audit_checkpoints.c.id)
    if start is not None:
        query = query.where(audit_checkpoints.c.seq >= start)
    if end is not None:
        query = query.where(audit_checkpoints.c.seq <= end)
    return [_checkpoint(row) for row in conn.execute(query).mappings()]


def latest_checkpoint(conn: Connection) -> Checkpoint | None:
    row = (
        conn.execute(select(audit_checkpoints).order_by(audit_checkpoints.c.seq.desc()).limit(1))
        .mappings()
        .first()
    )
    return None if row is None else _checkpoint(row)


def add_verification(conn: Connection, verification: Verification) -> None:
    conn.execute(
        audit_verifications.insert().values(
            at=verification.at,
            start_seq=verification.start_seq,
            end_seq=verification.end_seq,
            checked=verification.checked,
            first_bad=verification.first_bad,
            problem=verification.problem,
            checkpoint_id=verification.checkpoint_id,
        )
    )


def latest_verification(conn: Connection) -> Verification | None:
    row = (
        conn.execute(select(audit_verifications).order_by(audit_verifications.c.id.desc()).limit(1))
        .mappings()
        .first()
    )
    if row is None:
        return None
    return Verification(
        at=row["at"],
        start_seq=row["start_seq"],
        end_seq=row["end_seq"],
        checked=row["checked"],
        first_bad=row["first_bad"],
        problem=row["problem"],
        checkpoint_id=row["checkpoint_id"],
    )
