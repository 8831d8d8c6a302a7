"""マイナンバー (個人番号): 12 digits whose last digit checks the other eleven.

The checksum is the evidence: an invalid number is never reported, whatever the words around
it. A label naming another identifier (運転免許証, 受付番号…) vetoes a valid one too, since one
random 12-digit number in eleven passes the check by chance.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from mamori.guard.pii._base import NUM_END, NUM_START, PiiDetector, digits_of
from mamori.guard.pii.checksums import my_number_valid
from mamori.guard.pii.context import verdict

KIND = "my_number"
# 4-4-4 with the same separator (space or hyphen) between groups, or none.
_PATTERN = re.compile(NUM_START + r"[0-9]{4}(?P<sep>[ -]?)[0-9]{4}(?P=sep)[0-9]{4}" + NUM_END)


class MyNumberDetector(PiiDetector):
    name = KIND
    kinds = (KIND,)

    def scan(self, text: str) -> Iterator[tuple[int, int, float]]:
        for match in _PATTERN.finditer(text):
            if not my_number_valid(digits_of(match.group())):
                continue
            labelled = verdict(text, match.start(), KIND)
            if labelled is False:
                continue
            yield match.start(), match.end(), 0.99 if labelled else 0.85
