"""Groups, reasoning display and effort policy, and where raw reasoning is kept.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "groups",
        sa.Column("id", sa.String(36), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("display_name", sa.String(200), nullable=False),
        sa.Column("reasoning_display", sa.String(16), nullable=True),
        sa.Column("max_reasoning_effort", sa.String(16), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name="pk_groups"),
        sa.UniqueConstraint("name", name="uq_groups_name"),
    )
    op.create_table(
        "group_members",
        sa.Column("group_id", sa.String(36), nullable=False),
        sa.Column("user_id", sa.String(36), nullable=False),
        sa.ForeignKeyConstraint(
            ["group_id"],
            ["groups.id"],
            name="fk_group_members_group_id_groups",
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["users.id"], name="fk_group_members_user_id_users", ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("group_id", "user_id", name="pk_group_members"),
    )
    op.create_index("ix_group_members_user_id", "group_members", ["user_id"])
    op.create_table(
        "turn_reasoning",
        sa.Column("turn_id", sa.String(36), nullable=False),
        sa.Column("user_id", sa.String(36), nullable=False),
        sa.Column("model", sa.String(200), nullable=False),
        sa.Column("reasoning", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("turn_id", name="pk_turn_reasoning"),
    )
    op.create_index("ix_turn_reasoning_created_at", "turn_reasoning", ["created_at"])
    op.create_table(
        "tool_call_turns",
        sa.Column("user_id", sa.String(36), nullable=False),
        sa.Column("call_id", sa.String(200), nullable=False),
        sa.Column("turn_id", sa.String(36), nullable=False),
        sa.PrimaryKeyConstraint("user_id", "call_id", name="pk_tool_call_turns"),
    )
    op.create_index("ix_tool_call_turns_turn_id", "tool_call_turns", ["turn_id"])
    with op.batch_alter_table("models") as batch:
        batch.add_column(sa.Column("reasoning_display", sa.String(16), nullable=True))
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("reasoning_summary", sa.Text(), nullable=True))
        batch.add_column(sa.Column("reasoning_ms", sa.Integer(), nullable=True))
        batch.add_column(sa.Column("reasoning_tokens", sa.Integer(), nullable=True))
    with op.batch_alter_table("audit_records") as batch:
        batch.add_column(sa.Column("subject", sa.String(64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("audit_records") as batch:
        batch.drop_column("subject")
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("reasoning_tokens")
        batch.drop_column("reasoning_ms")
        batch.drop_column("reasoning_summary")
    with op.batch_alter_table("models") as batch:
        batch.drop_column("reasoning_display")
    for table in ("tool_call_turns", "turn_reasoning", "group_members", "groups"):
        op.drop_table(table)
