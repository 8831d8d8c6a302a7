"""Keyword search over the knowledge bases a person may read.

The knowledge bases asked for are narrowed to those the person's groups are granted, in the
same read transaction as the ranking query, and the ranking query reads only their chunks:
another group's chunk is never fetched. ``user_id=None`` is the operator at the command line,
who may search any knowledge base.
"""

from __future__ import annotations

from collections.abc import Sequence

from mamori.domain.documents import SearchHit
from mamori.rag.tokenizer import JapaneseTokenizer, default_tokenizer
from mamori.store import Database, keyword
from mamori.store.database import Connection
from mamori.store.repos import kb_documents
from mamori.store.repos.knowledge_bases import allowed_kb_ids


class KeywordSearch:
    def __init__(self, db: Database, tokenizer: JapaneseTokenizer | None = None) -> None:
        self.db = db
        self.tokenizer = tokenizer or default_tokenizer()

    async def search(
        self, query: str, *, kb_ids: Sequence[str], user_id: str | None, limit: int = 10
    ) -> list[SearchHit]:
        terms = self.tokenizer.query_terms(query)
        if not terms or not kb_ids:
            return []
        return await self.db.read(_search, terms, list(kb_ids), user_id, limit)


def _search(
    conn: Connection, terms: list[str], kb_ids: list[str], user_id: str | None, limit: int
) -> list[SearchHit]:
    allowed = allowed_kb_ids(conn, kb_ids, user_id=user_id)
    ranked = keyword.search(conn, terms, kb_ids=allowed, limit=limit)
    return kb_documents.hits(conn, ranked)
