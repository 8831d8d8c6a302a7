"""The retriever interface used by the pipeline's retrieve stage."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from mamori.domain.principal import Principal


@dataclass(frozen=True, slots=True)
class RetrievedChunk:
    document_id: str
    title: str
    text: str
    score: float


class Retriever(Protocol):
    """Returns chunks the principal may read, most relevant first."""

    async def retrieve(
        self, query: str, *, principal: Principal, limit: int
    ) -> list[RetrievedChunk]: ...
