"""Knowledge bases, their access lists, documents and chunks, and the keyword index.

The keyword index (see ``mamori.store.keyword``) is written out as DDL per backend, for
what SQLAlchemy's table definitions cannot say: WITHOUT ROWID on SQLite, an index INCLUDE on
PostgreSQL.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _time(name: str) -> sa.Column[object]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=False)


def upgrade() -> None:
    # The knowledge bases a conversation answers from (a JSON list of ids), and the sources
    # an answer was given (a JSON list of citations), shown again when it is reopened.
    with op.batch_alter_table("conversations") as batch:
        batch.add_column(sa.Column("knowledge_bases", sa.Text(), nullable=True))
    with op.batch_alter_table("messages") as batch:
        batch.add_column(sa.Column("citations", sa.Text(), nullable=True))
    op.create_table(
        "knowledge_bases",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("description", sa.Text(), nullable=False),
        sa.Column(
            "owner_group_id",
            sa.String(36),
            sa.ForeignKey(
                "groups.id",
                ondelete="RESTRICT",
                name="fk_knowledge_bases_owner_group_id_groups",
            ),
            nullable=False,
        ),
        sa.Column("classification", sa.Integer(), nullable=False),
        _time("created_at"),
        sa.UniqueConstraint("name", name="uq_knowledge_bases_name"),
    )
    op.create_index("ix_knowledge_bases_owner_group_id", "knowledge_bases", ["owner_group_id"])
    op.create_table(
        "kb_access",
        sa.Column(
            "kb_id",
            sa.String(36),
            sa.ForeignKey(
                "knowledge_bases.id", ondelete="CASCADE", name="fk_kb_access_kb_id_knowledge_bases"
            ),
            primary_key=True,
        ),
        sa.Column(
            "group_id",
            sa.String(36),
            sa.ForeignKey("groups.id", ondelete="CASCADE", name="fk_kb_access_group_id_groups"),
            primary_key=True,
        ),
        sa.Column("can_write", sa.Boolean(), nullable=False),
    )
    op.create_index("ix_kb_access_group_id", "kb_access", ["group_id"])
    op.create_table(
        "kb_documents",
        sa.Column("id", sa.String(36), primary_key=True),
        sa.Column(
            "kb_id",
            sa.String(36),
            sa.ForeignKey(
                "knowledge_bases.id",
                ondelete="CASCADE",
                name="fk_kb_documents_kb_id_knowledge_bases",
            ),
            nullable=False,
        ),
        sa.Column("filename", sa.String(500), nullable=False),
        sa.Column("title", sa.String(500), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
        sa.Column("size_bytes", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("pages", sa.Integer(), nullable=False),
        sa.Column("chunks", sa.Integer(), nullable=False),
        sa.Column("error", sa.String(64), nullable=True),
        sa.Column("held_back", sa.Integer(), nullable=False),
        sa.Column("created_by", sa.String(36), nullable=True),
        _time("created_at"),
        _time("updated_at"),
        sa.UniqueConstraint("kb_id", "filename", name="uq_kb_documents_kb_id_filename"),
    )
    op.create_index("ix_kb_documents_status", "kb_documents", ["status"])
    op.create_table(
        "kb_chunks",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column(
            "document_id",
            sa.String(36),
            sa.ForeignKey(
                "kb_documents.id", ondelete="CASCADE", name="fk_kb_chunks_document_id_kb_documents"
            ),
            nullable=False,
        ),
        sa.Column("kb_id", sa.String(36), nullable=False),
        sa.Column("ordinal", sa.Integer(), nullable=False),
        sa.Column("page", sa.Integer(), nullable=True),
        sa.Column("headings", sa.Text(), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("held_back", sa.Boolean(), nullable=False),
        sa.Column("flags", sa.Text(), nullable=True),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_kb_chunks_document_id", "kb_chunks", ["document_id"])
    op.create_index("ix_kb_chunks_kb_id", "kb_chunks", ["kb_id"])
    _keyword_index(create=True)


def downgrade() -> None:
    with op.batch_alter_table("messages") as batch:
        batch.drop_column("citations")
    with op.batch_alter_table("conversations") as batch:
        batch.drop_column("knowledge_bases")
    _keyword_index(create=False)
    op.drop_index("ix_kb_chunks_kb_id", "kb_chunks")
    op.drop_index("ix_kb_chunks_document_id", "kb_chunks")
    op.drop_table("kb_chunks")
    op.drop_index("ix_kb_documents_status", "kb_documents")
    op.drop_table("kb_documents")
    op.drop_index("ix_kb_access_group_id", "kb_access")
    op.drop_table("kb_access")
    op.drop_index("ix_knowledge_bases_owner_group_id", "knowledge_bases")
    op.drop_table("knowledge_bases")


def _keyword_index(*, create: bool) -> None:
    statements: tuple[str, ...] = _DROP
    if create:
        statements = _POSTGRES if op.get_bind().dialect.name == "postgresql" else _SQLITE
    for statement in statements:
        op.execute(statement)


_SQLITE = (
    "CREATE TABLE kb_kw_bases (kb_key INTEGER PRIMARY KEY AUTOINCREMENT, "
    "kb_id VARCHAR(36) NOT NULL UNIQUE, chunks INTEGER NOT NULL, tokens INTEGER NOT NULL)",
    "CREATE TABLE kb_kw_terms (term TEXT NOT NULL, kb_key INTEGER NOT NULL, "
    "df INTEGER NOT NULL, PRIMARY KEY (term, kb_key)) WITHOUT ROWID",
    # A rowid table: its rows (up to 1.2 kB) are too large for WITHOUT ROWID to pay.
    "CREATE TABLE kb_kw_postings (term TEXT NOT NULL, kb_key INTEGER NOT NULL, "
    "block INTEGER NOT NULL, data BLOB NOT NULL, PRIMARY KEY (term, kb_key, block))",
    "CREATE TABLE kb_kw_chunks (chunk_id INTEGER PRIMARY KEY, kb_key INTEGER NOT NULL, "
    "dl INTEGER NOT NULL, terms TEXT NOT NULL)",
    "CREATE INDEX ix_kb_kw_chunks_kb_key ON kb_kw_chunks (kb_key)",
)
_POSTGRES = (
    "CREATE TABLE kb_kw_bases (kb_key integer GENERATED ALWAYS AS IDENTITY "
    "CONSTRAINT pk_kb_kw_bases PRIMARY KEY, "
    "kb_id varchar(36) NOT NULL CONSTRAINT uq_kb_kw_bases_kb_id UNIQUE, "
    "chunks bigint NOT NULL, tokens bigint NOT NULL)",
    "CREATE TABLE kb_kw_terms (term text NOT NULL, kb_key integer NOT NULL, "
    "df integer NOT NULL, CONSTRAINT pk_kb_kw_terms PRIMARY KEY (term, kb_key) INCLUDE (df))",
    "CREATE TABLE kb_kw_postings (term text NOT NULL, kb_key integer NOT NULL, "
    "block integer NOT NULL, data bytea NOT NULL, "
    "CONSTRAINT pk_kb_kw_postings PRIMARY KEY (term, kb_key, block))",
    "CREATE TABLE kb_kw_chunks (chunk_id integer CONSTRAINT pk_kb_kw_chunks PRIMARY KEY, "
    "kb_key integer NOT NULL, dl integer NOT NULL, terms text NOT NULL)",
    "CREATE INDEX ix_kb_kw_chunks_kb_key ON kb_kw_chunks (kb_key)",
)
_DROP = (
    "DROP TABLE kb_kw_chunks",
    "DROP TABLE kb_kw_postings",
    "DROP TABLE kb_kw_terms",
    "DROP TABLE kb_kw_bases",
)
