"""Stage 3: rag.retrieve — adds ACL-filtered document chunks to the turn (none configured yet)."""

from __future__ import annotations

from mamori.pipeline.turn import ChatTurn
from mamori.rag.retriever import Retriever


class RetrieveStage:
    name = "rag.retrieve"

    def __init__(self, retriever: Retriever | None = None) -> None:
        self.retriever = retriever

    async def prepare(self, turn: ChatTurn) -> None:
        if self.retriever is None:
            return
        # Knowledge bases attach to conversations in a later issue; nothing asks for them yet.
