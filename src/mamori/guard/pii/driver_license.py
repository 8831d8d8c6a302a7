"""運転免許証番号: 12 digits (issuing prefecture, year of first issue, serial, an unofficial
check digit, reissue count). The check digit is not published, so a licence label is required.
The first digit is never 0: the issuing codes run from 10 (北海道) to 97 (沖縄)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from mamori.guard.pii._base import NUM_END, NUM_START, PiiDetector
from mamori.guard.pii.context import verdict

KIND = "driver_license"
_PATTERN = re.compile(NUM_START + r"[1-9][0-9]{3}(?P<sep>[ -]?)[0-9]{4}(?P=sep)[0-9]{4}" + NUM_END)


class DriverLicenseDetector(PiiDetector):
    name = KIND
    kinds = (KIND,)

    def scan(self, text: str) -> Iterator[tuple[int, int, float]]:
        for match in _PATTERN.finditer(text):
            if verdict(text, match.start(), KIND, window=16):
                yield match.start(), match.end(), 0.95
