"""E-mail addresses, delimited by ASCII lookarounds so that 「宛」 or 「から」 right after the
address (no space, as Japanese is written) ends it instead of hiding it."""

from __future__ import annotations

import re
from collections.abc import Iterator

from mamori.guard.pii._base import PiiDetector

KIND = "email"
_PATTERN = re.compile(
    r"(?<![A-Za-z0-9._%+\-])"
    r"[A-Za-z0-9_%+\-](?:[A-Za-z0-9._%+\-]{0,62}[A-Za-z0-9_%+\-])?"  # no dot at either end
    r"@"
    r"(?:[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?\.)+"
    r"[A-Za-z]{2,24}"
    r"(?![A-Za-z0-9\-]|\.[A-Za-z0-9])"
)


class EmailDetector(PiiDetector):
    name = KIND
    kinds = (KIND,)

    def scan(self, text: str) -> Iterator[tuple[int, int, float]]:
        if "@" not in text:
            return
        for match in _PATTERN.finditer(text):
            yield match.start(), match.end(), 0.99
