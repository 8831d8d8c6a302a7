"""The schema, as SQLAlchemy Core tables. Migrations in ``migrations/versions`` must match it.

Changing a table here means writing a migration too; ``tests/store/test_migrations.py`` fails
until the migrated schema and this module agree again.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    Dialect,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
    UniqueConstraint,
    false,
)

# Explicit constraint names: Alembic can only drop or alter what it can name, and SQLite batch
# migrations need names to recreate tables faithfully.
NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)


class UtcDateTime(TypeDecorator[datetime]):
    """A timezone-aware UTC timestamp on every backend.

    SQLite has no timezone type and hands back naive values; PostgreSQL hands back values in the
    session's time zone. Both come back as UTC-aware here. Naive values are refused on the way
    in, because nothing could tell later which clock they were read from.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: pass a timezone-aware value")
        value = value.astimezone(UTC)
        # SQLite stores text and compares it as text: one fixed offset keeps ordering correct.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        assert isinstance(value, datetime)
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


def _id(name: str = "id", **kw: Any) -> Column[str]:
    return Column(name, String(36), **kw)


def _user_fk(nullable: bool = False) -> Column[str]:
    return Column(
        "user_id",
        String(36),
        ForeignKey("users.id", ondelete="CASCADE"),
        nullable=nullable,
        index=True,
    )


users = Table(
    "users",
    metadata,
    _id(primary_key=True),
    Column("username", String(150), nullable=False, unique=True),
    Column("display_name", String(200), nullable=False),
    Column("password_hash", Text, nullable=False),
    Column("roles", Text, nullable=False),  # JSON list of Role values, e.g. ["admin"]
    Column("locale", String(16), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("disabled", Boolean, nullable=False),
)

sessions = Table(
    "sessions",
    metadata,
    Column("token_hash", String(128), primary_key=True),
    _user_fk(),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False, index=True),
)

api_keys = Table(
    "api_keys",
    metadata,
    _id(primary_key=True),
    _user_fk(),
    Column("name", String(200), nullable=False),
    Column("key_hash", String(128), nullable=False, unique=True),
    Column("prefix", String(32), nullable=False),  # the first characters, shown in key lists
    Column("created_at", UtcDateTime, nullable=False),
    Column("last_used_at", UtcDateTime, nullable=True),
    Column("revoked_at", UtcDateTime, nullable=True),
)

groups = Table(
    "groups",
    metadata,
    _id(primary_key=True),
    Column("name", String(100), nullable=False, unique=True),
    Column("display_name", String(200), nullable=False),
    Column("reasoning_display", String(16), nullable=True),
    Column("max_reasoning_effort", String(16), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("default_classification", Integer, nullable=True),
)

group_members = Table(
    "group_members",
    metadata,
    Column(
        "group_id",
        String(36),
        ForeignKey("groups.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column(
        "user_id",
        String(36),
        ForeignKey("users.id", ondelete="CASCADE"),
        primary_key=True,
        index=True,
    ),
)

models = Table(
    "models",
    metadata,
    Column("name", String(200), primary_key=True),
    Column("display_name", String(200), nullable=False),
    Column("supports_reasoning_effort", Boolean, nullable=False),
    Column("default_reasoning_effort", String(16), nullable=True),
    Column("reasoning_display", String(16), nullable=True),
    Column("context_length", Integer, nullable=True),
    Column("description_ja", Text, nullable=False),
    Column("description_en", Text, nullable=False),
)

endpoints = Table(
    "endpoints",
    metadata,
    Column("name", String(100), primary_key=True),
    Column("base_url", Text, nullable=False),
    Column("dialect", String(50), nullable=False),
    Column("residency", String(32), nullable=False),
    Column("api_key_env", String(200), nullable=True),  # the variable's name, never the key
    Column("enabled", Boolean, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    # The organisation's assessment; all NULL: not assessed, the residency's cautious default.
    Column("max_classification", Integer, nullable=True),
    Column("trains_on_inputs", Boolean, nullable=True),
    Column("terms_of_service", Boolean, nullable=True),
    Column("approved_for_masked", Boolean, nullable=True),
)

# No foreign key to models: a model may also be declared in mamori.toml rather than stored.
endpoint_models = Table(
    "endpoint_models",
    metadata,
    Column(
        "endpoint_name",
        String(100),
        ForeignKey("endpoints.name", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("model_name", String(200), primary_key=True),
    Column("upstream_model", String(200), nullable=False),
)

conversations = Table(
    "conversations",
    metadata,
    _id(primary_key=True),
    Column("user_id", String(36), ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("title", Text, nullable=False),
    Column("model", String(200), nullable=True),
    Column("classification", Integer, nullable=False),
    # The knowledge bases it answers from: a JSON list of ids (null: none).
    Column("knowledge_bases", Text, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    # The sidebar query: one user's conversations, most recently active first.
    Index("ix_conversations_user_id_updated_at", "user_id", "updated_at"),
)

messages = Table(
    "messages",
    metadata,
    _id(primary_key=True),
    Column(
        "conversation_id",
        String(36),
        ForeignKey("conversations.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("turn_id", String(36), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("role", String(16), nullable=False),
    Column("content", Text, nullable=False),
    Column("reasoning", Text, nullable=True),
    # What people without raw access see instead: a summary, and how long the model thought.
    Column("reasoning_summary", Text, nullable=True),
    Column("reasoning_ms", Integer, nullable=True),
    Column("reasoning_tokens", Integer, nullable=True),
    Column("status", String(16), nullable=False),
    Column("model", String(200), nullable=True),
    Column("endpoint", String(100), nullable=True),
    Column("reasoning_effort", String(16), nullable=True),
    Column("error_code", String(64), nullable=True),
    # The sources the answer was given, as a JSON list of citations (null: none).
    Column("citations", Text, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    # Unique as well as ordered: two writers can never give two messages the same place.
    Index("ix_messages_conversation_id_seq", "conversation_id", "seq", unique=True),
)

# The raw reasoning of API-face turns, which have no conversation to keep it in: for auditors,
# and for tool loops whose client never saw the reasoning it would have to send back.
turn_reasoning = Table(
    "turn_reasoning",
    metadata,
    Column("turn_id", String(36), primary_key=True),
    Column("user_id", String(36), nullable=False),
    Column("model", String(200), nullable=False),
    Column("reasoning", Text, nullable=False),
    Column("created_at", UtcDateTime, nullable=False, index=True),
)

# Which turn asked for a tool call. Scoped by user: one person's call id never unlocks another
# person's reasoning.
tool_call_turns = Table(
    "tool_call_turns",
    metadata,
    Column("user_id", String(36), primary_key=True),
    Column("call_id", String(200), primary_key=True),
    Column("turn_id", String(36), nullable=False, index=True),
)

# Usage and audit rows carry ids without foreign keys: accounting outlives deleted users.
usage = Table(
    "usage",
    metadata,
    _id(primary_key=True),
    Column("turn_id", String(36), nullable=False, index=True),
    Column("user_id", String(36), nullable=False),
    Column("api_key_id", String(36), nullable=True),
    Column("model", String(200), nullable=False),
    Column("endpoint", String(100), nullable=True),
    Column("prompt_tokens", Integer, nullable=False),
    Column("completion_tokens", Integer, nullable=False),
    Column("estimated", Boolean, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("day", Date, nullable=False),
    Index("ix_usage_user_id_day", "user_id", "day"),
    Index("ix_usage_day", "day"),
)

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

# Which groups a usage row counts for: the asker's groups when the turn ran.
usage_groups = Table(
    "usage_groups",
    metadata,
    Column(
        "usage_id",
        String(36),
        ForeignKey("usage.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column("group_id", String(36), primary_key=True),
    Column("day", Date, nullable=False),
    Index("ix_usage_groups_group_id_day", "group_id", "day"),
)

# Limits per user or per group; NULL: no limit of that kind.
quotas = Table(
    "quotas",
    metadata,
    Column("scope", String(8), primary_key=True),  # "user" | "group"
    Column("subject_id", String(36), primary_key=True),
    Column("daily_tokens", Integer, nullable=True),
    Column("monthly_tokens", Integer, nullable=True),
    Column("requests_per_minute", Integer, nullable=True),
)

# Knowledge bases. Each belongs to a group and carries a class (機密性) that a turn using it
# inherits. ``kb_access`` lists the groups that may read it (and which of them may add and
# remove documents); the owner group is always on it.
knowledge_bases = Table(
    "knowledge_bases",
    metadata,
    _id(primary_key=True),
    Column("name", String(200), nullable=False, unique=True),
    Column("description", Text, nullable=False),
    Column(
        "owner_group_id",
        String(36),
        ForeignKey("groups.id", ondelete="RESTRICT"),
        nullable=False,
        index=True,
    ),
    Column("classification", Integer, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

kb_access = Table(
    "kb_access",
    metadata,
    Column(
        "kb_id",
        String(36),
        ForeignKey("knowledge_bases.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column(
        "group_id",
        String(36),
        ForeignKey("groups.id", ondelete="CASCADE"),
        primary_key=True,
        index=True,
    ),
    Column("can_write", Boolean, nullable=False),
)

# A file in a knowledge base. A file ingested again under the same name replaces the old one.
kb_documents = Table(
    "kb_documents",
    metadata,
    _id(primary_key=True),
    Column(
        "kb_id",
        String(36),
        ForeignKey("knowledge_bases.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("filename", String(500), nullable=False),
    Column("title", String(500), nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("size_bytes", Integer, nullable=False),
    Column("status", String(16), nullable=False),
    Column("pages", Integer, nullable=False),
    Column("chunks", Integer, nullable=False),
    Column("error", String(64), nullable=True),
    Column("held_back", Integer, nullable=False),
    Column("created_by", String(36), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    UniqueConstraint("kb_id", "filename"),
    Index("ix_kb_documents_status", "status"),
)

# Chunks of text. ``kb_id`` is copied from the document so that a search can restrict itself
# to readable knowledge bases in the index query itself. The integer id is the keyword
# index's row id; AUTOINCREMENT on SQLite keeps a deleted chunk's id from being reused.
kb_chunks = Table(
    "kb_chunks",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column(
        "document_id",
        String(36),
        ForeignKey("kb_documents.id", ondelete="CASCADE"),
        nullable=False,
        index=True,
    ),
    Column("kb_id", String(36), nullable=False, index=True),
    Column("ordinal", Integer, nullable=False),
    Column("page", Integer, nullable=True),
    Column("headings", Text, nullable=False),
    Column("text", Text, nullable=False),
    # Flagged by the injection screen at ingest: stored for inspection, never indexed.
    Column("held_back", Boolean, nullable=False),
    Column("flags", Text, nullable=True),
    sqlite_autoincrement=True,
)
