"""The schema, as SQLAlchemy Core tables. Migrations in ``migrations/versions`` must match it.

Changing a table here means writing a migration too; ``tests/store/test_migrations.py`` fails
until the migrated schema and this package agree again. The workspace's tables (people, groups,
models and endpoints, conversations, usage and quotas) are here; the audit trail's and the
knowledge bases' are in modules of their own, and every table is importable from here.
"""

from __future__ import annotations

from sqlalchemy import Boolean, Column, Date, ForeignKey, Index, Integer, String, Table, Text

from mamori.store.tables.audit import (
    audit_checkpoints,
    audit_content,
    audit_records,
    audit_verifications,
)
from mamori.store.tables.columns import UtcDateTime, id_column, metadata, user_fk
from mamori.store.tables.knowledge import kb_access, kb_chunks, kb_documents, knowledge_bases

# The audit trail's and the knowledge bases' tables, importable from here like the others.
__all__ = [
    "audit_checkpoints",
    "audit_content",
    "audit_records",
    "audit_verifications",
    "kb_access",
    "kb_chunks",
    "kb_documents",
    "knowledge_bases",
    "metadata",
]

users = Table(
    "users",
    metadata,
    id_column(primary_key=True),
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
    user_fk(),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False, index=True),
)

api_keys = Table(
    "api_keys",
    metadata,
    id_column(primary_key=True),
    user_fk(),
    Column("name", String(200), nullable=False),
    Column("key_hash", String(128), nullable=False, unique=True),
    Column("prefix", String(32), nullable=False),  # the first characters, shown in key lists
    Column("created_at", UtcDateTime, nullable=False),
    Column("last_used_at", UtcDateTime, nullable=True),
    Column("revoked_at", UtcDateTime, nullable=True),
    # The models the key may use, as a JSON list (null: every model its owner may use).
    Column("models", Text, nullable=True),
    # After this moment the key no longer works (null: until revoked).
    Column("expires_at", UtcDateTime, nullable=True),
)

groups = Table(
    "groups",
    metadata,
    id_column(primary_key=True),
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
    id_column(primary_key=True),
    Column("user_id", String(36), ForeignKey("users.id", ondelete="CASCADE"), nullable=False),
    Column("title", Text, nullable=False),
    Column("model", String(200), nullable=True),
    Column("classification", Integer, nullable=False),
    # The knowledge bases it answers from: a JSON list of ids (null: none).
    Column("knowledge_bases", Text, nullable=True),
    # The use case it was started from (null: an ordinary chat).
    Column("use_case", String(64), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    # Deleted by its owner: gone from every list, kept until the retention period ends.
    Column("deleted_at", UtcDateTime, nullable=True),
    # The sidebar query: one user's conversations, most recently active first.
    Index("ix_conversations_user_id_updated_at", "user_id", "updated_at"),
)

messages = Table(
    "messages",
    metadata,
    id_column(primary_key=True),
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
    # The files attached to a question, as a JSON list of {id, filename} (null: none).
    Column("attachments", Text, nullable=True),
    # Who confirmed, before it left the organisation, that a person reviewed this answer.
    Column("reviewed_by", String(150), nullable=True),
    Column("reviewed_at", UtcDateTime, nullable=True),
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
    id_column(primary_key=True),
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

# Use cases administrators added, and their edits and hiding of the built-in ones (those live
# in mamori/usecases/builtin). ``definition`` is the use case as JSON; null for a built-in one
# that is only hidden, so it keeps the shipped template of later releases.
use_cases = Table(
    "use_cases",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("definition", Text, nullable=True),
    Column("hidden", Boolean, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("updated_by", String(150), nullable=False),
)

# Files attached to a question: their text as the parsers read it, kept with the conversation
# (and deleted with it) so later turns still see them. Uploaded but never sent: conversation_id
# stays null until the question is sent, and the housekeeping removes it after a day.
attachments = Table(
    "attachments",
    metadata,
    id_column(primary_key=True),
    user_fk(),
    Column(
        "conversation_id",
        String(36),
        ForeignKey("conversations.id", ondelete="CASCADE"),
        nullable=True,
        index=True,
    ),
    Column("filename", String(300), nullable=False),
    Column("text", Text, nullable=False),
    Column("pages", Integer, nullable=False),
    Column("chars", Integer, nullable=False),
    # The text was cut to the installation's limit for one file.
    Column("truncated", Boolean, nullable=False),
    Column("created_at", UtcDateTime, nullable=False, index=True),
)
