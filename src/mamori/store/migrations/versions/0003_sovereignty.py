"""Sovereignty: assessed endpoint trust, group default labels, policy decisions on audit records.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("endpoints") as batch:
        batch.add_column(sa.Column("max_classification", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("trains_on_inputs", sa.Boolean(), nullable=True))
        batch.add_column(sa.Column("terms_of_service", sa.Boolean(), nullable=True))
        batch.add_column(sa.Column("approved_for_masked", sa.Boolean(), nullable=True))
    with op.batch_alter_table("groups") as batch:
        batch.add_column(sa.Column("default_classification", sa.Integer(), nullable=True))
    with op.batch_alter_table("audit_records") as batch:
        batch.add_column(sa.Column("label", sa.Integer(), nullable=True))
        batch.add_column(
            sa.Column("special_personal", sa.Boolean(), nullable=False, server_default=sa.false())
        )
        batch.add_column(sa.Column("policy_action", sa.String(16), nullable=True))
        batch.add_column(sa.Column("policy_rule", sa.String(64), nullable=True))
        batch.add_column(sa.Column("decisions", sa.Text(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("audit_records") as batch:
        for column in ("decisions", "policy_rule", "policy_action", "special_personal", "label"):
            batch.drop_column(column)
    with op.batch_alter_table("groups") as batch:
        batch.drop_column("default_classification")
    with op.batch_alter_table("endpoints") as batch:
        for column in (
            "approved_for_masked",
            "terms_of_service",
            "trains_on_inputs",
            "max_classification",
        ):
            batch.drop_column(column)
