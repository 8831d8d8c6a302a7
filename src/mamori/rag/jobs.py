"""Ingestion as background jobs, in the server's own process (the embedded default).

An upload only stores the file and answers with a pending document; a worker task indexes
documents one at a time, so an upload of many files never holds a request open and never
competes with chat turns for more than one core. Progress is the documents' status in the
database (pending → indexing → ready or failed), which every face can read. Documents left
pending or indexing by a stop are picked up again at start.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging

from mamori.rag.ingest import FileResult, Ingestor

log = logging.getLogger(__name__)


class IngestionQueue:
    def __init__(self, ingestor: Ingestor) -> None:
        self.ingestor = ingestor
        self._queue: asyncio.Queue[str] = asyncio.Queue()
        self._queued: set[str] = set()
        self._worker: asyncio.Task[None] | None = None
        self.last: FileResult | None = None

    async def start(self) -> None:
        waiting = await self.ingestor.waiting()
        for document_id in waiting:
            self.submit(document_id)
        self._worker = asyncio.create_task(self._work(), name="kb-ingestion")

    async def stop(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker

    def submit(self, document_id: str) -> None:
        """Queues the document; a document queued already is indexed once, at its latest."""
        if document_id not in self._queued:
            self._queued.add(document_id)
            self._queue.put_nowait(document_id)

    async def idle(self) -> None:
        """Returns once every queued document is indexed (for tests and the CLI)."""
        await self._queue.join()

    async def _work(self) -> None:
        while True:
            document_id = await self._queue.get()
            self._queued.discard(document_id)
            try:
                self.last = await self.ingestor.index(document_id)
            except asyncio.CancelledError:
                raise
            except Exception:
                # The document went back to pending (ingest.index): retried at the next start.
                log.exception("indexing a knowledge-base document failed")
            finally:
                self._queue.task_done()
