"""Knowledge bases, their documents, chunks, search hits and citations: plain data, no I/O.

A parser turns a file into a ``ParsedDocument``: a flat list of ``Block``s in reading order.
Headings are blocks of their own with a level; the chunker turns them into each chunk's heading
path, so parsers never keep a heading stack themselves.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Literal

from mamori.domain.classification import Classification

BlockKind = Literal["paragraph", "heading", "table"]


@dataclass(frozen=True, slots=True)
class Block:
    """A run of text in reading order.

    ``page`` is 1-based: the PDF page, the slide, or the sheet; ``None`` where a format has no
    pages (HTML, Markdown, text). ``level`` is the heading level (1 = top) for headings and 0
    otherwise. A table block holds one row per line, cells separated by " | ".
    """

    text: str
    page: int | None = None
    kind: BlockKind = "paragraph"
    level: int = 0


@dataclass(frozen=True, slots=True)
class ParsedDocument:
    title: str | None
    blocks: list[Block]
    # Pages the file has (PDF pages, slides, sheets); 1 for formats without pages.
    pages: int = 1
    # Things the reader should know that did not stop the parse (a page without text...).
    warnings: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Chunk:
    ordinal: int
    text: str
    page: int | None
    heading_path: tuple[str, ...] = ()

    @property
    def headings(self) -> str:
        return " > ".join(self.heading_path)


class DocumentStatus(StrEnum):
    PENDING = "pending"
    INDEXING = "indexing"
    READY = "ready"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class KnowledgeBase:
    id: str
    name: str
    owner_group_id: str
    classification: Classification
    description: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class KbDocument:
    id: str
    kb_id: str
    filename: str
    title: str
    content_hash: str
    size_bytes: int
    status: DocumentStatus
    pages: int
    chunks: int
    # The error code (``DocumentRejectedError.code``) when the status is failed.
    error: str | None
    # Chunks the injection screen flagged: kept out of every search.
    held_back: int
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class SearchHit:
    chunk_id: int
    kb_id: str
    document_id: str
    title: str
    filename: str
    text: str
    page: int | None
    headings: str
    score: float


@dataclass(frozen=True, slots=True)
class Citation:
    """What the UI shows for ``[n]`` in an answer."""

    index: int
    kb_id: str
    document_id: str
    title: str
    page: int | None
    headings: str
    snippet: str


@dataclass(frozen=True, slots=True)
class Attachment:
    """A file attached to a question, as its text: the parsers' blocks joined in reading
    order, cut to the installation's limit (``truncated``)."""

    id: str
    filename: str
    text: str
    pages: int
    chars: int
    truncated: bool = False
    # None until the question it belongs to is sent.
    conversation_id: str | None = None


# The name of every message that carries a document's text (a retrieved chunk, an attached
# file) rather than a person's or mamori's own words: the guard screens those as documents.
DOCUMENT_PREFIX = "mamori_document_"
