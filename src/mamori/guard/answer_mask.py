"""Personal data in answers, hidden from people who must not see it.

Some staff (an outsourced help desk, say) may use the assistant but must not read residents'
personal data, which can reach an answer from a retrieved document, a tool result or the
model itself. For them the answer is scanned as it streams: text is held to the end of a
sentence or line, so a phone number split across chunks is whole when it is checked, and each
personal datum becomes its kind (〔電話番号〕). Values the person wrote themselves in the
request are left alone: they already know them.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

from mamori.guard.detector import Detector
from mamori.guard.pseudonymise import CLOSE, OPEN, label_of
from mamori.guard.resolve import detect_all

# Text is checked at these; personal data never spans one.
_BOUNDARIES = "。！？!?\n"
# Without a boundary, text is checked once this much is held.
MAX_HOLD = 400


class AnswerMasker:
    def __init__(self, detectors: Sequence[Detector], exempt: Iterable[str] = ()) -> None:
        self.detectors = detectors
        self.exempt = [text for text in exempt if text]
        self.masked: Counter[str] = Counter()
        self._held = ""

    @property
    def holding(self) -> bool:
        return bool(self._held)

    def feed(self, text: str) -> str:
        data = self._held + text
        cut = max(data.rfind(b) for b in _BOUNDARIES)
        if cut < 0 and len(data) < MAX_HOLD:
            self._held = data
            return ""
        end = cut + 1 if cut >= 0 else len(data)
        self._held = data[end:]
        return self._mask(data[:end])

    def flush(self) -> str:
        data, self._held = self._held, ""
        return self._mask(data)

    def _mask(self, text: str) -> str:
        if not text:
            return text
        pieces: list[str] = []
        at = 0
        for finding in detect_all(self.detectors, text, source="answer"):
            value = text[finding.start : finding.end]
            if any(value in own for own in self.exempt):
                continue
            pieces += [text[at : finding.start], f"{OPEN}{label_of(finding.kind)}{CLOSE}"]
            at = finding.end
            self.masked[finding.kind] += 1
        pieces.append(text[at:])
        return "".join(pieces)


def mask_stored(detectors: Sequence[Detector], text: str, exempt: Iterable[str]) -> str:
    """A whole stored answer, masked as it would have been while streaming."""
    masker = AnswerMasker(detectors, exempt)
    return masker.feed(text) + masker.flush()
