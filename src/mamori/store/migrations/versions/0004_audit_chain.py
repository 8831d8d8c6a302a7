"""The audit trail's hash chain: each record's hash over its content and the previous hash.

Records written before this revision are chained here, in sequence order, so the whole trail
verifies from its first record.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("audit_records") as batch:
        batch.add_column(sa.Column("prev_hash", sa.String(64), nullable=True))
        batch.add_column(sa.Column("record_hash", sa.String(64), nullable=True))
    # Imported here: the chain's encoding is the one the application appends with.
    from mamori.domain.audit_chain import GENESIS, record_hash
    from mamori.store.repos.audit import row_to_record
    from mamori.store.tables import audit_records

    conn = op.get_bind()
    prev = GENESIS
    # Only the columns of this revision: later ones do not exist yet (and are None in the
    # records hashed here, which is how the chain encodes a field a record does not have).
    existing = {c["name"] for c in sa.inspect(conn).get_columns("audit_records")}
    columns = [c for c in audit_records.c if c.name in existing]
    rows = conn.execute(sa.select(*columns).order_by(audit_records.c.seq)).mappings()
    for row in list(rows):
        digest = record_hash(row["seq"], row_to_record(row), prev)
        conn.execute(
            audit_records.update()
            .where(audit_records.c.seq == row["seq"])
            .values(prev_hash=prev, record_hash=digest)
        )
        prev = digest


def downgrade() -> None:
    with op.batch_alter_table("audit_records") as batch:
        batch.drop_column("record_hash")
        batch.drop_column("prev_hash")
