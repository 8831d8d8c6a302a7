"""The retriever interface used by the pipeline's retrieve stage, and its knowledge-base
implementation."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from mamori.domain.classification import Classification
from mamori.domain.principal import Principal
from mamori.rag.search import KeywordSearch
from mamori.store import Database
from mamori.store.repos.knowledge_bases import get_kb


@dataclass(frozen=True, slots=True)
class RetrievedChunk:
    document_id: str
    title: str
    text: str
    score: float
    kb_id: str = ""
    page: int | None = None
    headings: str = ""


class Retriever(Protocol):
    """Returns chunks of ``kb_ids`` that the principal may read, most relevant first."""

    async def retrieve(
        self, query: str, *, principal: Principal, kb_ids: Sequence[str], limit: int
    ) -> list[RetrievedChunk]: ...

    async def classification_of(self, kb_ids: Sequence[str]) -> Classification | None:
        """The highest class among ``kb_ids``; None when there are none."""
        ...


class KnowledgeBaseRetriever:
    def __init__(self, db: Database, search: KeywordSearch | None = None) -> None:
        self.db = db
        self.search = search or KeywordSearch(db)

    async def retrieve(
        self, query: str, *, principal: Principal, kb_ids: Sequence[str], limit: int
    ) -> list[RetrievedChunk]:
        hits = await self.search.search(
            query, kb_ids=kb_ids, user_id=principal.user_id, limit=limit
        )
        return [
            RetrievedChunk(
                document_id=h.document_id,
                title=h.title,
                text=h.text,
                score=h.score,
                kb_id=h.kb_id,
                page=h.page,
                headings=h.headings,
            )
            for h in hits
        ]

    async def classification_of(self, kb_ids: Sequence[str]) -> Classification | None:
        labels = [kb.classification for i in kb_ids if (kb := await self.db.read(get_kb, i))]
        return max(labels, default=None)
