"""The audit trail's content, checkpoints and verifications; usage by group; quotas.

Also makes ``audit_records`` append-only in the database itself: triggers refuse any UPDATE or
DELETE, so not even a bug or an injected statement in the application can rewrite history.
(Someone with the database owner's rights can drop them; the hash chain and the signed
checkpoints are what catches that.) A later migration that recreates the table (SQLite batch
mode) must create the triggers again.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _time(name: str, nullable: bool = False) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    with op.batch_alter_table("audit_records") as batch:
        batch.add_column(sa.Column("groups", sa.Text(), nullable=True))
        batch.add_column(sa.Column("findings", sa.Text(), nullable=True))
        batch.add_column(sa.Column("prompt_hash", sa.String(64), nullable=True))
        batch.add_column(sa.Column("answer_hash", sa.String(64), nullable=True))
        batch.add_column(sa.Column("reasoning_hash", sa.String(64), nullable=True))
        batch.create_index("ix_audit_records_created_at", ["created_at"])
    op.create_index("ix_usage_day", "usage", ["day"])
    op.create_table(
        "audit_content",
        sa.Column("seq", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("classification", sa.Integer(), nullable=False),
        _time("created_at"),
        _time("expires_at", nullable=True),
        sa.Column("prompt", sa.Text(), nullable=True),
        sa.Column("answer", sa.Text(), nullable=True),
        sa.Column("reasoning", sa.Text(), nullable=True),
        _time("purged_at", nullable=True),
    )
    op.create_index("ix_audit_content_expires_at", "audit_content", ["expires_at"])
    op.create_table(
        "audit_checkpoints",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("record_hash", sa.String(64), nullable=False),
        _time("created_at"),
        sa.Column("key_id", sa.String(64), nullable=False),
        sa.Column("signature", sa.String(128), nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_audit_checkpoints_seq", "audit_checkpoints", ["seq"])
    op.create_table(
        "audit_verifications",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        _time("at"),
        sa.Column("start_seq", sa.Integer(), nullable=False),
        sa.Column("end_seq", sa.Integer(), nullable=True),
        sa.Column("checked", sa.Integer(), nullable=False),
        sa.Column("first_bad", sa.Integer(), nullable=True),
        sa.Column("problem", sa.Text(), nullable=True),
        sa.Column("checkpoint_id", sa.Integer(), nullable=True),
        sqlite_autoincrement=True,
    )
    op.create_table(
        "usage_groups",
        sa.Column(
            "usage_id",
            sa.String(36),
            sa.ForeignKey("usage.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("group_id", sa.String(36), primary_key=True),
        sa.Column("day", sa.Date(), nullable=False),
    )
    op.create_index("ix_usage_groups_group_id_day", "usage_groups", ["group_id", "day"])
    op.create_table(
        "quotas",
        sa.Column("scope", sa.String(8), primary_key=True),
        sa.Column("subject_id", sa.String(36), primary_key=True),
        sa.Column("daily_tokens", sa.Integer(), nullable=True),
        sa.Column("monthly_tokens", sa.Integer(), nullable=True),
        sa.Column("requests_per_minute", sa.Integer(), nullable=True),
    )
    _append_only_triggers(create=True)


def downgrade() -> None:
    _append_only_triggers(create=False)
    op.drop_table("quotas")
    op.drop_index("ix_usage_groups_group_id_day", "usage_groups")
    op.drop_table("usage_groups")
    op.drop_table("audit_verifications")
    op.drop_index("ix_audit_checkpoints_seq", "audit_checkpoints")
    op.drop_table("audit_checkpoints")
    op.drop_index("ix_audit_content_expires_at", "audit_content")
    op.drop_table("audit_content")
    op.drop_index("ix_usage_day", "usage")
    with op.batch_alter_table("audit_records") as batch:
        batch.drop_index("ix_audit_records_created_at")
        batch.drop_column("reasoning_hash")
        batch.drop_column("answer_hash")
        batch.drop_column("prompt_hash")
        batch.drop_column("findings")
        batch.drop_column("groups")


def _append_only_triggers(*, create: bool) -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for event in ("UPDATE", "DELETE"):
            name = f"audit_records_no_{event.lower()}"
            if create:
                op.execute(
                    f"CREATE TRIGGER {name} BEFORE {event} ON audit_records "
                    "BEGIN SELECT RAISE(ABORT, 'audit records are append-only'); END"
                )
            else:
                op.execute(f"DROP TRIGGER IF EXISTS {name}")
    elif dialect == "postgresql":
        if create:
            op.execute(
                "CREATE FUNCTION audit_records_append_only() RETURNS trigger "
                "LANGUAGE plpgsql AS $$ BEGIN "
                "RAISE EXCEPTION 'audit records are append-only' "
                # 23000, integrity_constraint_violation: reported like any refused write.
                "USING ERRCODE = '23000'; END $$"
            )
            op.execute(
                "CREATE TRIGGER audit_records_append_only BEFORE UPDATE OR DELETE OR TRUNCATE "
                "ON audit_records FOR EACH STATEMENT EXECUTE FUNCTION audit_records_append_only()"
            )
        else:
            op.execute("DROP TRIGGER IF EXISTS audit_records_append_only ON audit_records")
            op.execute("DROP FUNCTION IF EXISTS audit_records_append_only()")
