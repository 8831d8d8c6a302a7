"""Knowledge bases, their access lists, documents and chunks, and the keyword index.

The keyword index is backend-specific (see ``mamori.store.keyword``): an FTS5 table and its
vocabulary view on SQLite, postings with term and global counts on PostgreSQL. Its tokenizer
option is written out here, not imported, because a migration must keep creating what it
created when it was written; a test checks that it matches ``mamori.rag.tokenizer``.

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

FTS5_TOKENIZE = "ascii tokenchars '!#$%&()*+,-./:;<=>?@[\\]^_`{|}~'"


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
    statements: tuple[str, ...]
    if op.get_bind().dialect.name == "postgresql":
        statements = _POSTGRES if create else _POSTGRES_DROP
    else:
        statements = _SQLITE if create else _SQLITE_DROP
    for statement in statements:
        op.execute(statement)


_SQLITE = (
    f'CREATE VIRTUAL TABLE kb_fts USING fts5(title, headings, body, tokenize = "{FTS5_TOKENIZE}")',
    "CREATE VIRTUAL TABLE kb_fts_vocab USING fts5vocab(kb_fts, row)",
)
_SQLITE_DROP = ("DROP TABLE kb_fts_vocab", "DROP TABLE kb_fts")

_POSTGRES = (
    "CREATE TABLE kb_kw_postings (term text NOT NULL, kb_id varchar(36) NOT NULL, "
    "chunk_id integer NOT NULL, tf real NOT NULL, dl integer NOT NULL, "
    "CONSTRAINT pk_kb_kw_postings PRIMARY KEY (term, kb_id, chunk_id) INCLUDE (tf, dl))",
    "CREATE INDEX ix_kb_kw_postings_chunk_id ON kb_kw_postings (chunk_id)",
    "CREATE TABLE kb_kw_terms (term text CONSTRAINT pk_kb_kw_terms PRIMARY KEY, "
    "df integer NOT NULL)",
    "CREATE TABLE kb_kw_stats (id integer CONSTRAINT pk_kb_kw_stats PRIMARY KEY "
    "CHECK (id = 1), chunks bigint NOT NULL, tokens bigint NOT NULL)",
    "INSERT INTO kb_kw_stats (id, chunks, tokens) VALUES (1, 0, 0)",
)
_POSTGRES_DROP = ("DROP TABLE kb_kw_stats", "DROP TABLE kb_kw_terms", "DROP TABLE kb_kw_postings")
