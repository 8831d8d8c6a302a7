"""The view of a text that injection patterns match, with a map back to the original.

Attackers hide instructions from filters with width tricks (ｉｇｎｏｒｅ), invisible characters,
letter spacing (``i g n o r e``), spaces between kana and kanji (「指 示 を 無 視」) and Markdown
emphasis (``**ignore**``). The view undoes all of them, so one pattern family covers every
spelling:

1. ``guard.pii.normalize``: NFKC (full-width letters, half-width kana) and invisible format
   characters dropped, with the span map the PII detectors already rely on;
2. ASCII lower-casing (only ASCII: ``str.lower`` may change the length of other scripts);
3. letter-spaced words joined, whitespace runs collapsed to one space, whitespace between two
   non-ASCII characters removed (Japanese is written without spaces), emphasis marks dropped.

Each step keeps a map from view indices to original indices, so findings point into the text
the user or the document actually holds.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from mamori.guard.pii.normalize import normalize

_ASCII_LOWER = str.maketrans("ABCDEFGHIJKLMNOPQRSTUVWXYZ", "abcdefghijklmnopqrstuvwxyz")
# Four or more single letters separated by one space, dot or hyphen: "i g n o r e", "s.e.n.d".
_LETTER_SPACED = re.compile(r"(?<![a-z0-9])[a-z](?:[ .\-][a-z](?![a-z0-9])){3,}")
_SPACED_SEP = re.compile(r"[ .\-]")
_WHITESPACE = re.compile(r"\s+")
_EMPHASIS = re.compile(r"[*`]+")

Edit = tuple[int, int, str]  # replace text[start:end] with the string


@dataclass(frozen=True, slots=True)
class View:
    """``text`` is what the patterns match; ``span()`` maps its indices to ``original``."""

    original: str
    text: str
    # Index in ``text`` -> index in ``original`` of where that character came from (start and
    # end, as NFKC may have merged several original characters into one).
    starts: tuple[int, ...]
    ends: tuple[int, ...]

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The original span of ``text[start:end]`` (``end > start``)."""
        return self.starts[start], self.ends[end - 1]


def _apply(text: str, edits: Iterable[Edit]) -> tuple[str, list[int]]:
    """Apply sorted, non-overlapping edits; return the new text and new index -> old index."""
    pieces: list[str] = []
    index: list[int] = []
    pos = 0
    for start, end, replacement in edits:
        pieces.append(text[pos:start])
        index.extend(range(pos, start))
        pieces.append(replacement)
        index.extend([start] * len(replacement))
        pos = end
    pieces.append(text[pos:])
    index.extend(range(pos, len(text)))
    return "".join(pieces), index


def _letter_spacing_edits(text: str) -> list[Edit]:
    edits: list[Edit] = []
    for run in _LETTER_SPACED.finditer(text):
        for sep in _SPACED_SEP.finditer(text, run.start(), run.end()):
            edits.append((sep.start(), sep.end(), ""))
    return edits


def _spacing_edits(text: str) -> list[Edit]:
    edits: list[Edit] = []
    for found in _EMPHASIS.finditer(text):
        edits.append((found.start(), found.end(), ""))
    for found in _WHITESPACE.finditer(text):
        start, end = found.start(), found.end()
        before = text[start - 1] if start > 0 else ""
        after = text[end] if end < len(text) else ""
        if (not before or not before.isascii()) and (not after or not after.isascii()):
            edits.append((start, end, ""))
        elif found.group() != " ":
            edits.append((start, end, " "))
    edits.sort()
    return edits


@lru_cache(maxsize=64)
def prepare(original: str) -> View:
    """The matching view of ``original``; cached, as the five kind detectors share one scan."""
    norm = normalize(original)
    n = len(norm.text)
    starts = norm.starts if norm.starts is not None else range(n)
    ends = norm.ends if norm.ends is not None else range(1, n + 1)
    text = norm.text.translate(_ASCII_LOWER)
    index: list[int] | range = range(len(text))
    for make_edits in (_letter_spacing_edits, _spacing_edits):
        edits = make_edits(text)
        if edits:
            text, step = _apply(text, edits)
            index = [index[i] for i in step]
    return View(
        original,
        text,
        tuple(starts[i] for i in index),
        tuple(ends[i] for i in index),
    )
