"""What the per-kind detector modules share: boundaries, spans, the detector skeleton."""

from __future__ import annotations

from collections.abc import Iterator

from mamori.domain.decision import Finding
from mamori.guard.pii.normalize import normalize

# Python's \b treats kana and kanji as word characters, so it never fires between 「宛」 and an
# address or 「番号」 and a digit. Identifiers are delimited by explicit ASCII lookarounds instead.
# A number also must not continue another number through a hyphen ("12-3456…").
NUM_START = r"(?<![0-9A-Za-z])(?<![0-9]-)"
NUM_END = r"(?![0-9A-Za-z])(?!-[0-9])"
ALNUM_START = r"(?<![0-9A-Za-z])"
ALNUM_END = r"(?![0-9A-Za-z])"

KANJI = "\u3005\u3006\u30f6\u4e00-\u9fff\uf900-\ufaff"  # 々 〆 ヶ and the CJK blocks
HIRAGANA = "\u3041-\u309f"
KATAKANA = "\u30a0-\u30ff"


def digits_of(value: str) -> str:
    return "".join(ch for ch in value if "0" <= ch <= "9")


class PiiDetector:
    """One kind of personal data; subclasses implement ``scan`` on the normalised text.

    ``scan`` yields ``(start, end, score)`` in normalised indices; ``detect`` maps them back to
    the original text, so no subclass handles offsets itself.
    """

    name: str = ""
    kinds: tuple[str, ...] = ()

    def detect(self, text: str, *, source: str = "user") -> list[Finding]:
        if not text:
            return []
        norm = normalize(text)
        kind = self.kinds[0]
        findings = []
        for start, end, score in self.scan(norm.text):
            o_start, o_end = norm.span(start, end)
            findings.append(Finding(kind, o_start, o_end, score=score, source=source))
        return findings

    def scan(self, text: str) -> Iterator[tuple[int, int, float]]:
        raise NotImplementedError
