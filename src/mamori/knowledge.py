"""Knowledge-base parts wired together: the parser worker pool, the injection screen and the
tokenizer, for the server, the CLI and the benchmark alike (one path for all three)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from mamori.guard.injection import screen
from mamori.rag.ingest import Ingestor
from mamori.rag.parsers import ParseLimits
from mamori.rag.parsers.isolation import ParserPool
from mamori.rag.search import KeywordSearch
from mamori.settings import Settings
from mamori.store import Database


def injected_instruction_kinds(text: str) -> tuple[str, ...]:
    """The injection kinds in a chunk, judged as a document (stricter than for the user)."""
    verdict = screen(text, source="document")
    return tuple(verdict.kinds) if verdict.attack else ()


def parse_limits(settings: Settings) -> ParseLimits:
    return ParseLimits(
        max_bytes=settings.kb_max_file_bytes, timeout_seconds=settings.kb_parse_timeout
    )


def ingestor(settings: Settings, db: Database, pool: ParserPool) -> Ingestor:
    return Ingestor(
        db,
        pool.parse,
        settings.knowledge_dir,
        screen=injected_instruction_kinds,
        max_bytes=settings.kb_max_file_bytes,
    )


@contextmanager
def open_ingestor(settings: Settings, db: Database, *, workers: int = 1) -> Iterator[Ingestor]:
    """An ingestor whose parser runs in worker processes, closed on exit."""
    with ParserPool(parse_limits(settings), workers=workers) as pool:
        yield ingestor(settings, db, pool)


def keyword_search(db: Database) -> KeywordSearch:
    return KeywordSearch(db)
