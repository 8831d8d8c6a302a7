"""Ingestion: a file into a knowledge base, from bytes to searchable chunks.

Two steps, so that the server can answer an upload at once and index it in the background:

- ``accept`` checks the name and size, keeps the original file, and records the document as
  pending. The same name again replaces the document; the same bytes again change nothing.
- ``index`` parses it (through the parser given, normally a worker process that a hostile
  file cannot hang), chunks it, screens every chunk for injected instructions, tokenises it
  and swaps the new chunks in for the old in ONE transaction with the keyword index, so a
  search sees the old version or the new, never a mix. A file that fails leaves the previous
  version searchable and the document marked failed with the reason.

``ingest`` does both, for the CLI and the benchmark, which thereby run the server's path.
"""

from __future__ import annotations

import asyncio
import errno
import hashlib
import logging
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from mamori.domain.documents import DocumentStatus, KbDocument, KnowledgeBase, ParsedDocument
from mamori.errors import DocumentRejectedError, NotFoundError, StorageFullError
from mamori.rag.chunking import ChunkingOptions, chunk_document
from mamori.rag.tokenizer import JapaneseTokenizer, default_tokenizer
from mamori.store import Database, keyword
from mamori.store.database import Connection
from mamori.store.repos import kb_documents as docs
from mamori.store.repos.kb_documents import NewChunk
from mamori.store.repos.knowledge_bases import delete_kb

log = logging.getLogger(__name__)

# Parses a file's bytes; raises DocumentRejectedError for a file it cannot read.
Parser = Callable[[bytes, str], ParsedDocument]
# The injection kinds found in a chunk of a document; empty when it is clean.
Screen = Callable[[str], Sequence[str]]

_MAX_NAME = 255


@dataclass(frozen=True, slots=True)
class FileResult:
    filename: str
    # "indexed", "unchanged" or "failed".
    outcome: str
    document_id: str | None = None
    chunks: int = 0
    pages: int = 0
    held_back: int = 0
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.outcome != "failed"


@dataclass(frozen=True, slots=True)
class _Prepared:
    chunk: NewChunk
    headings: list[str]
    body: list[str]


class Ingestor:
    def __init__(
        self,
        db: Database,
        parse: Parser,
        files_dir: Path,
        *,
        screen: Screen | None = None,
        tokenizer: JapaneseTokenizer | None = None,
        chunking: ChunkingOptions | None = None,
        max_bytes: int = 50 * 1024 * 1024,
    ) -> None:
        self.db = db
        self.parse = parse
        self.files_dir = files_dir
        self.screen = screen
        self.tokenizer = tokenizer or default_tokenizer()
        self.chunking = chunking or ChunkingOptions()
        self.max_bytes = max_bytes

    # --- both steps -------------------------------------------------------------------------

    async def ingest(
        self, kb: KnowledgeBase, filename: str, data: bytes, *, user_id: str | None = None
    ) -> FileResult:
        name = document_name(filename)
        try:
            document = await self.accept(kb, name, data, user_id=user_id)
        except DocumentRejectedError as exc:
            return FileResult(name, "failed", error=exc.code)
        if document.status is DocumentStatus.READY:
            return FileResult(
                name, "unchanged", document.id, document.chunks, document.pages, document.held_back
            )
        return await self.index(document.id)

    # --- step 1 -----------------------------------------------------------------------------

    async def accept(
        self, kb: KnowledgeBase, filename: str, data: bytes, *, user_id: str | None = None
    ) -> KbDocument:
        """The pending document for ``data``; or the ready one when these bytes are indexed
        already. Raises ``DocumentRejectedError`` for a name or size refused outright."""
        name = document_name(filename)
        if not name:
            raise DocumentRejectedError("no file name", code="unsupported_file_type")
        if not data:
            raise DocumentRejectedError(f"{name}: 0 bytes", code="empty_file")
        if len(data) > self.max_bytes:
            raise DocumentRejectedError(f"{name}: {len(data)} bytes", code="file_too_large")
        digest = hashlib.sha256(data).hexdigest()
        existing = await self.db.read(docs.find_document, kb.id, name)
        if (
            existing is not None
            and existing.content_hash == digest
            and existing.status is DocumentStatus.READY
        ):
            return existing
        document = await self.db.write(
            docs.upsert_document,
            kb_id=kb.id,
            filename=name,
            content_hash=digest,
            size_bytes=len(data),
            created_by=user_id,
        )
        await asyncio.to_thread(self._store_file, document, data)
        return document

    # --- step 2 -----------------------------------------------------------------------------

    async def index(self, document_id: str) -> FileResult:
        document = await self.db.read(docs.get_document, document_id)
        if document is None:
            raise NotFoundError(f"document {document_id}")
        await self.db.write(docs.set_status, document.id, DocumentStatus.INDEXING)
        try:
            data = await asyncio.to_thread(self._file_of(document).read_bytes)
            parsed = await asyncio.to_thread(self.parse, data, document.filename)
            title = (parsed.title or "").strip() or Path(document.filename).stem
            prepared = await asyncio.to_thread(self._prepare, parsed, title)
            title_terms = self.tokenizer.index_terms(title)
            await self.db.write(_commit, document, title, parsed.pages, prepared, title_terms)
        except DocumentRejectedError as exc:
            log.info("kb document rejected", extra={"document": document.id, "code": exc.code})
            await self.db.write(docs.set_status, document.id, DocumentStatus.FAILED, error=exc.code)
            return FileResult(document.filename, "failed", document.id, error=exc.code)
        except FileNotFoundError:
            await self.db.write(
                docs.set_status, document.id, DocumentStatus.FAILED, error="file_missing"
            )
            return FileResult(document.filename, "failed", document.id, error="file_missing")
        except BaseException:
            # Not the file's fault (the database, a bug): back to pending, for a later retry.
            await self.db.write(docs.set_status, document.id, DocumentStatus.PENDING)
            raise
        await asyncio.to_thread(self._drop_older_files, document)
        held = sum(1 for p in prepared if p.chunk.held_back)
        return FileResult(
            document.filename, "indexed", document.id, len(prepared), parsed.pages, held
        )

    async def waiting(self) -> list[str]:
        """Documents accepted but not indexed, oldest first (after a stop, those interrupted)."""
        found = await self.db.read(
            docs.documents_in_status, DocumentStatus.PENDING, DocumentStatus.INDEXING
        )
        return [d.id for d in found]

    async def index_pending(self) -> list[FileResult]:
        return [await self.index(document_id) for document_id in await self.waiting()]

    # --- removal ----------------------------------------------------------------------------

    async def delete_document(self, document: KbDocument) -> None:
        """Gone from search when this returns; the file goes after the commit."""
        await self.db.write(_delete_document, document.id)
        await asyncio.to_thread(self._remove_files, document.kb_id, document.id)

    async def delete_kb(self, kb: KnowledgeBase) -> None:
        await self.db.write(_delete_kb, kb.id)
        await asyncio.to_thread(self._remove_files, kb.id, None)

    # --- pieces -----------------------------------------------------------------------------

    def _prepare(self, parsed: ParsedDocument, title: str) -> list[_Prepared]:
        prepared: list[_Prepared] = []
        for chunk in chunk_document(parsed, self.chunking):
            # A heading that repeats the title adds nothing the title column does not have.
            path = chunk.heading_path
            if path[:1] == (title,):
                path = path[1:]
            flags = tuple(self.screen(chunk.text)) if self.screen else ()
            prepared.append(
                _Prepared(
                    NewChunk(
                        ordinal=chunk.ordinal,
                        text=chunk.text,
                        page=chunk.page,
                        headings=" > ".join(path),
                        held_back=bool(flags),
                        flags=",".join(flags) or None,
                    ),
                    headings=self.tokenizer.index_terms(" ".join(path)),
                    body=self.tokenizer.index_terms(chunk.text),
                )
            )
        return prepared

    def _dir_of(self, kb_id: str, document_id: str) -> Path:
        return self.files_dir / kb_id / document_id

    def _file_of(self, document: KbDocument) -> Path:
        return self._dir_of(document.kb_id, document.id) / document.content_hash

    def _store_file(self, document: KbDocument, data: bytes) -> None:
        target = self._file_of(document)
        partial = target.with_suffix(".part")
        try:
            target.parent.mkdir(parents=True, exist_ok=True)
            partial.write_bytes(data)
            os.replace(partial, target)
        except OSError as exc:
            partial.unlink(missing_ok=True)
            if exc.errno in (errno.ENOSPC, errno.EDQUOT):
                raise StorageFullError(f"no space for {document.filename}") from exc
            raise

    def _drop_older_files(self, document: KbDocument) -> None:
        for path in self._dir_of(document.kb_id, document.id).iterdir():
            if path.name != document.content_hash:
                path.unlink(missing_ok=True)

    def _remove_files(self, kb_id: str, document_id: str | None) -> None:
        folder = self.files_dir / kb_id
        if document_id is not None:
            folder = folder / document_id
        if not folder.exists():
            return
        for path in sorted(folder.rglob("*"), reverse=True):
            path.rmdir() if path.is_dir() else path.unlink(missing_ok=True)
        folder.rmdir()


def _commit(
    conn: Connection,
    document: KbDocument,
    title: str,
    pages: int,
    prepared: list[_Prepared],
    title_terms: list[str],
) -> None:
    old, new = docs.replace_chunks(
        conn,
        document.id,
        kb_id=document.kb_id,
        title=title,
        pages=pages,
        chunks=[p.chunk for p in prepared],
    )
    keyword.remove(conn, old)
    keyword.add(
        conn,
        [
            keyword.IndexEntry(chunk_id, document.kb_id, title_terms, p.headings, p.body)
            for chunk_id, p in zip(new, prepared, strict=True)
            if not p.chunk.held_back
        ],
    )


def _delete_document(conn: Connection, document_id: str) -> None:
    removed = docs.delete_document(conn, document_id)
    if removed is None:
        raise NotFoundError(f"document {document_id}")
    keyword.remove(conn, removed)


def _delete_kb(conn: Connection, kb_id: str) -> None:
    keyword.remove_kb(conn, kb_id)
    if not delete_kb(conn, kb_id):
        raise NotFoundError(f"knowledge base {kb_id}")


def document_name(filename: str) -> str:
    """The name an uploaded file is shown under: knowledge-base documents and attachments.

    Browsers and shells send paths; only the last part names the document, and it never
    reaches the file system (files are stored under ids)."""
    name = filename.replace("\\", "/").rsplit("/", 1)[-1].strip()
    return "".join(ch for ch in name if ch.isprintable())[:_MAX_NAME]
