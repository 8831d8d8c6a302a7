"""The audit trail: hash-chained records, the content kept beside the chain, signed
checkpoints of its head, and every verification run."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    Index,
    Integer,
    String,
    Table,
    Text,
    false,
)

from mamori.store.tables.columns import UtcDateTime, metadata

audit_records = Table(
    "audit_records",
    metadata,
    # AUTOINCREMENT on SQLite: a sequence number is never reused, even after a deleted tail,
    # which a tamper-evident chain depends on.
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("turn_id", String(36), nullable=False, unique=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("user_id", String(36), nullable=False),
    Column("username", String(150), nullable=False),
    Column("api_key_id", String(36), nullable=True),
    Column("face", String(16), nullable=False),
    Column("action", String(32), nullable=False),
    # What an action other than a chat acted on, e.g. the turn whose reasoning an auditor read.
    Column("subject", String(64), nullable=True),
    Column("conversation_id", String(36), nullable=True),
    Column("model", String(200), nullable=False),
    Column("endpoint", String(100), nullable=True),
    Column("residency", String(32), nullable=True),
    Column("classification", Integer, nullable=False),
    Column("reasoning_effort", String(16), nullable=True),
    Column("prompt_tokens", Integer, nullable=False),
    Column("completion_tokens", Integer, nullable=False),
    Column("usage_estimated", Boolean, nullable=False),
    Column("latency_ms", Integer, nullable=False),
    Column("ttft_ms", Integer, nullable=True),
    Column("status", String(16), nullable=False),
    Column("error_code", String(64), nullable=True),
    # The label before detection; ``classification`` is after it.
    Column("label", Integer, nullable=True),
    Column("special_personal", Boolean, nullable=False, server_default=false()),
    Column("policy_action", String(16), nullable=True),
    Column("policy_rule", String(64), nullable=True),
    # Every decision of every stage, as JSON: stage, action, rule id and its inputs.
    Column("decisions", Text, nullable=True),
    # The hash chain (mamori.domain.audit_chain): the previous record's hash, and this one's
    # over its canonical encoding and that.
    Column("prev_hash", String(64), nullable=True),
    Column("record_hash", String(64), nullable=True),
    Column("groups", Text, nullable=True),
    Column("findings", Text, nullable=True),
    Column("prompt_hash", String(64), nullable=True),
    Column("answer_hash", String(64), nullable=True),
    Column("reasoning_hash", String(64), nullable=True),
    Index("ix_audit_records_user_id_seq", "user_id", "seq"),
    Index("ix_audit_records_created_at", "created_at"),
    sqlite_autoincrement=True,
)

# What a turn said, kept beside the chain rather than in it: the chained record holds only the
# hashes, so a purge at the end of the retention period (NULLs here, ``purged_at`` set) leaves
# every record verifiable.
audit_content = Table(
    "audit_content",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("classification", Integer, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=True, index=True),
    Column("prompt", Text, nullable=True),
    Column("answer", Text, nullable=True),
    Column("reasoning", Text, nullable=True),
    Column("purged_at", UtcDateTime, nullable=True),
)

# Ed25519-signed statements of the chain's head, each made after the records up to it verified.
audit_checkpoints = Table(
    "audit_checkpoints",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("seq", Integer, nullable=False, index=True),
    Column("record_hash", String(64), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("key_id", String(64), nullable=False),
    Column("signature", String(128), nullable=False),
    sqlite_autoincrement=True,
)

# Every verification run: what it covered and what it found, for the auditors' chain status.
audit_verifications = Table(
    "audit_verifications",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", UtcDateTime, nullable=False),
    Column("start_seq", Integer, nullable=False),
    Column("end_seq", Integer, nullable=True),
    Column("checked", Integer, nullable=False),
    Column("first_bad", Integer, nullable=True),
    Column("problem", Text, nullable=True),
    Column("checkpoint_id", Integer, nullable=True),
    sqlite_autoincrement=True,
)
