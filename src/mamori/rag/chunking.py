"""Chunking: a parsed document into passages that follow Japanese sentences and headings.

- A chunk never spans two headings or two pages, so that its heading path and page, which a
  citation shows, are true of all of it.
- Within a section, sentences (ending in 。！？!? or a line break, with any closing brackets
  that follow) are packed up to ``max_chars``; the next chunk starts with the last sentences
  of the previous one, up to ``overlap_chars``, so that an answer split by a boundary is
  still found whole in one of them.
- A sentence longer than ``max_chars`` (a table row, a run-on line) is cut at ``max_chars``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from mamori.domain.documents import Block, Chunk, ParsedDocument

# A sentence: anything up to a terminator and the closing brackets and quotes after it, or up
# to a line break, or the rest.
_SENTENCE = re.compile(r"[^。！？!?\n]*(?:[。！？!?]+[」』）)\]】〉》\"'”’]*|\n|$)")


_ENDS_SENTENCE = re.compile(r"[。！？!?.」』）)\]】〉》\"'”’]")


@dataclass(frozen=True, slots=True)
class ChunkingOptions:
    max_chars: int = 800
    overlap_chars: int = 120


def split_sentences(text: str) -> list[str]:
    sentences = [m.group(0).strip() for m in _SENTENCE.finditer(text)]
    return [s for s in sentences if s]


def chunk_document(document: ParsedDocument, options: ChunkingOptions | None = None) -> list[Chunk]:
    options = options or ChunkingOptions()
    chunks: list[Chunk] = []
    for path, page, sentences in _sections(document.blocks):
        for text in _pack(sentences, options):
            chunks.append(Chunk(ordinal=len(chunks), text=text, page=page, heading_path=path))
    return chunks


def _sections(blocks: list[Block]) -> Iterator[tuple[tuple[str, ...], int | None, list[str]]]:
    """Runs of sentences under one heading path on one page."""
    stack: list[tuple[int, str]] = []
    path: tuple[str, ...] = ()
    page: int | None = None
    sentences: list[str] = []
    for block in blocks:
        text = block.text.strip()
        if not text:
            continue
        if block.kind == "heading":
            if sentences:
                yield path, page, sentences
                sentences = []
            level = max(block.level, 1)
            stack = [(lvl, title) for lvl, title in stack if lvl < level]
            stack.append((level, " ".join(text.split())))
            path = tuple(title for _, title in stack)
            continue
        if block.page != page and sentences:
            yield path, page, sentences
            sentences = []
        page = block.page
        # Table rows are kept as lines: a row is the unit a reader cites.
        sentences.extend(text.splitlines() if block.kind == "table" else split_sentences(text))
    if sentences:
        yield path, page, sentences


def _pack(sentences: list[str], options: ChunkingOptions) -> Iterator[str]:
    pieces = [p for s in sentences for p in _cut(s, options.max_chars)]
    current: list[str] = []
    size = 0
    fresh = 0  # sentences in ``current`` that no earlier chunk has
    for piece in pieces:
        if current and size + len(piece) > options.max_chars:
            yield _join(current)
            current, size = _overlap(current, options.overlap_chars)
            fresh = 0
        current.append(piece)
        size += len(piece)
        fresh += 1
    if fresh:
        yield _join(current)


def _overlap(sentences: list[str], budget: int) -> tuple[list[str], int]:
    kept: list[str] = []
    size = 0
    for sentence in reversed(sentences):
        if size + len(sentence) > budget:
            break
        kept.insert(0, sentence)
        size += len(sentence)
    return kept, size


def _cut(sentence: str, limit: int) -> list[str]:
    return [sentence[i : i + limit] for i in range(0, len(sentence), limit)]


def _join(sentences: list[str]) -> str:
    out = sentences[0]
    for sentence in sentences[1:]:
        out += _separator(out[-1], sentence[0]) + sentence
    return out


def _separator(before: str, after: str) -> str:
    if not _ENDS_SENTENCE.match(before):
        return "\n"  # a line without a terminator: a list item, a table row, a title
    # Japanese sentences join without a space; Latin ones keep one.
    return " " if before.isascii() and after.isascii() else ""
