"""A detector for tests: any run of twelve digits is a My Number (no check digit, no context).

The real detectors arrive with the guard; this one lets a test make the policy see 特定個人情報
in a turn without depending on them.
"""

from __future__ import annotations

import re

from mamori.domain.decision import Finding

_TWELVE_DIGITS = re.compile(r"(?<!\d)\d{12}(?!\d)")


class TwelveDigitsDetector:
    name = "test.twelve_digits"

    def detect(self, text: str, *, source: str) -> list[Finding]:
        return [
            Finding("my_number", m.start(), m.end(), source=source)
            for m in _TWELVE_DIGITS.finditer(text)
        ]
