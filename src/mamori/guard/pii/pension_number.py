"""基礎年金番号: 4 digits, an optional hyphen, 6 digits. Ten digits say nothing by themselves (a
landline has ten too), so a pension label must be the nearest label before the number."""

from __future__ import annotations

import re
from collections.abc import Iterator

from mamori.guard.pii._base import NUM_END, NUM_START, PiiDetector
from mamori.guard.pii.context import verdict

KIND = "pension_number"
_PATTERN = re.compile(NUM_START + r"[0-9]{4}[ -]?[0-9]{6}" + NUM_END)


class PensionNumberDetector(PiiDetector):
    name = KIND
    kinds = (KIND,)

    def scan(self, text: str) -> Iterator[tuple[int, int, float]]:
        for match in _PATTERN.finditer(text):
            if verdict(text, match.start(), KIND, window=16):
                yield match.start(), match.end(), 0.95
