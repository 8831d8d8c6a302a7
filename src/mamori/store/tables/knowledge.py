"""Knowledge bases, their access lists, documents and chunks. The keyword index's own tables
are per backend and live in migration 0006 (``mamori.store.keyword``)."""

from __future__ import annotations

from sqlalchemy import (
    Boolean,
    Column,
    ForeignKey,
    Index,
    Integer,
    String,
    Table,
    Text,
    UniqueConstraint,
)

from mamori.store.tables.columns import UtcDateTime, id_column, metadata

# Knowledge bases. Each belongs to a group and carries a class (機密性) that a turn using it
# inherits. ``kb_access`` lists the groups that may read it (and which of them may add and
# remove documents); the owner group is always on it.
knowledge_bases = Table(
    "knowledge_bases",
    metadata,
    id_column(primary_key=True),
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
    id_column(primary_key=True),
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
