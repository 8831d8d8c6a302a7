"""Width and dash normalisation for matching, with a map back to the original text.

Detectors match on a normalised copy (NFKC, and dash variants between digits folded to "-"),
so one pattern covers ``０９０－１２３４－５６７８`` and ``090-1234-5678``. Findings must still
point into the text the user wrote, and NFKC can change the length (``㈱`` becomes ``(株)``,
``ｶﾞ`` becomes ``ガ``), so every normalised character remembers the original span it came from.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from functools import lru_cache

# After NFKC, these still stand for a hyphen when written between digits: Japanese IMEs and
# word processors turn "-" into any of them. NFKC already maps full-width "－" and "﹣" to "-".
_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\u30fc\u2500\u2501\u2043\ufe58"
_DASH_BETWEEN_DIGITS = re.compile(f"(?<=[0-9])[{_DASHES}](?=[0-9])")

# Marks that NFKC composes with the character before them (dakuten, accents). A text holding one
# is normalised in groups, so that "ｶﾞ" (two characters) maps to "ガ" (one). Hangul jamo and a
# few Indic vowel signs also compose; they cannot form any identifier detected here, so a
# misplaced index inside them cannot move a finding.
_JOINER = re.compile(
    "[\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\u3099\u309a\ufe20-\ufe2f]"
)


class _NfkcTable(dict[int, str]):
    """A ``str.translate`` table that fills itself: NFKC of one character, computed once."""

    def __missing__(self, key: int) -> str:
        char = chr(key)
        # Invisible format characters (zero-width space, soft hyphen, BOM...) vanish: text
        # pasted from PDFs and word processors carries them, and "1234\u200b5678" must not
        # hide a number from every pattern.
        if unicodedata.category(char) == "Cf":
            self[key] = ""
            return ""
        value = unicodedata.normalize("NFKC", char)
        self[key] = value
        return value


_TABLE = _NfkcTable()


@dataclass(frozen=True, slots=True)
class NormalizedText:
    """``text`` is what detectors match; ``span()`` maps its indices back to ``original``."""

    original: str
    text: str
    # For each character of ``text``: where its source starts and ends in ``original``.
    # ``None`` when every character maps to exactly one (the common case).
    starts: tuple[int, ...] | None = None
    ends: tuple[int, ...] | None = None

    def span(self, start: int, end: int) -> tuple[int, int]:
        """The original span of ``text[start:end]`` (``end > start``)."""
        if self.starts is None or self.ends is None:
            return start, end
        return self.starts[start], self.ends[end - 1]


def _fold_dashes(text: str) -> str:
    return _DASH_BETWEEN_DIGITS.sub("-", text)


@lru_cache(maxsize=32)
def normalize(original: str) -> NormalizedText:
    """Normalise once per text: every detector of a scan shares the result through the cache."""
    if original.isascii():
        # ASCII is its own NFKC and holds none of the dash variants.
        return NormalizedText(original, original)
    folded = original.translate(_TABLE)
    if len(folded) == len(original) and _JOINER.search(folded) is None:
        # No character expanded or vanished and nothing can compose: indices are unchanged.
        return NormalizedText(original, _fold_dashes(folded))
    return _normalize_grouped(original)


def _normalize_grouped(original: str) -> NormalizedText:
    pieces: list[str] = []
    starts: list[int] = []
    ends: list[int] = []
    i, n = 0, len(original)
    while i < n:
        j = i + 1
        # A base character and the marks that follow it normalise together.
        while j < n and (
            unicodedata.combining(original[j]) or original[j] in "\uff9e\uff9f\u3099\u309a"
        ):
            j += 1
        out = (
            unicodedata.normalize("NFKC", original[i:j]) if j - i > 1 else _TABLE[ord(original[i])]
        )
        pieces.append(out)
        starts.extend([i] * len(out))
        ends.extend([j] * len(out))
        i = j
    text = _fold_dashes("".join(pieces))  # same length: the map stays valid
    return NormalizedText(original, text, tuple(starts), tuple(ends))
