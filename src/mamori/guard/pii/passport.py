"""旅券番号: two Latin letters and seven digits (the Japanese passport since 2006).

The shape alone is specific, but product codes share it: without a passport label the score is
low, and a label naming another number vetoes it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from mamori.guard.pii._base import ALNUM_END, ALNUM_START, PiiDetector
from mamori.guard.pii.context import verdict

KIND = "passport"
_PATTERN = re.compile(ALNUM_START + r"[A-Z]{2}[0-9]{7}" + ALNUM_END)


class PassportDetector(PiiDetector):
    name = KIND
    kinds = (KIND,)

    def scan(self, text: str) -> Iterator[tuple[int, int, float]]:
        for match in _PATTERN.finditer(text):
            labelled = verdict(text, match.start(), KIND, window=16)
            if labelled is False:
                continue
            yield match.start(), match.end(), 0.97 if labelled else 0.6
