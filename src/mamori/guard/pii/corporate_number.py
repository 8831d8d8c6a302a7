"""法人番号: 13 digits whose FIRST digit checks the other twelve.

Also found inside a qualified-invoice registration number (``T`` + 法人番号), which is why a
leading ``T`` does not count as a letter glued to the number.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from mamori.guard.pii._base import NUM_END, PiiDetector, digits_of
from mamori.guard.pii.checksums import corporate_number_valid
from mamori.guard.pii.context import verdict

KIND = "corporate_number"
_PATTERN = re.compile(
    r"(?<![0-9A-SU-Za-z])(?<![0-9]-)"  # NUM_START, except that "T" may precede
    r"[0-9](?P<sep>[ -]?)[0-9]{4}(?P=sep)[0-9]{4}(?P=sep)[0-9]{4}" + NUM_END
)


class CorporateNumberDetector(PiiDetector):
    name = KIND
    kinds = (KIND,)

    def scan(self, text: str) -> Iterator[tuple[int, int, float]]:
        for match in _PATTERN.finditer(text):
            if not corporate_number_valid(digits_of(match.group())):
                continue
            labelled = verdict(text, match.start(), KIND)
            if labelled is False:
                continue
            yield match.start(), match.end(), 0.99 if labelled else 0.85
