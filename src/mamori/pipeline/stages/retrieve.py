"""rag.retrieve — document chunks the person may read, added to what the model is sent.

Each chunk becomes a system message of its own, named ``mamori_document_N``, placed before
the question. Running before guard.inbound means the guard screens every chunk as a
document (an injected instruction keeps the chunk out) and classification counts what the
chunks hold, exactly as for the person's own text.
"""

from __future__ import annotations

from mamori.domain.chat import ChatMessage
from mamori.pipeline.stages.guard import DOCUMENT_PREFIX
from mamori.pipeline.turn import ChatTurn
from mamori.rag.retriever import RetrievedChunk, Retriever

CHUNKS_PER_TURN = 5


class RetrieveStage:
    name = "rag.retrieve"

    def __init__(self, retriever: Retriever | None = None) -> None:
        self.retriever = retriever

    async def prepare(self, turn: ChatTurn) -> None:
        if self.retriever is None or not turn.user_text:
            return
        chunks = await self.retriever.retrieve(
            turn.user_text, principal=turn.principal, limit=CHUNKS_PER_TURN
        )
        if not chunks:
            return
        documents = [document_message(i, chunk) for i, chunk in enumerate(chunks, start=1)]
        last_user = max(i for i, m in enumerate(turn.messages) if m.role == "user")
        turn.messages[last_user:last_user] = documents
        turn.decide(
            self.name,
            "retrieve",
            "rag.retrieve",
            documents=",".join(
                f"{m.name}={c.document_id}" for m, c in zip(documents, chunks, strict=True)
            ),
        )


def document_message(index: int, chunk: RetrievedChunk) -> ChatMessage:
    return ChatMessage(
        role="system",
        content=f"参考資料 [{index}] {chunk.title}\n{chunk.text}",
        name=f"{DOCUMENT_PREFIX}{index}",
    )
