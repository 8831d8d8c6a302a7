"""Payment card numbers: 13–19 digits in the groupings cards are printed with, Luhn-valid,
with a prefix (IIN) and length that a known network issues."""

from __future__ import annotations

import re
from collections.abc import Iterator

from mamori.guard.pii._base import NUM_END, NUM_START, PiiDetector, digits_of
from mamori.guard.pii.checksums import card_brand, luhn_valid
from mamori.guard.pii.context import verdict

KIND = "credit_card"
_PATTERN = re.compile(
    NUM_START
    + r"(?:"
    + r"[0-9]{4}(?P<s>[ -])[0-9]{4}(?P=s)[0-9]{4}(?P=s)[0-9]{4}(?:(?P=s)[0-9]{3})?"  # 4-4-4-4(-3)
    + r"|[0-9]{4}(?P<t>[ -])[0-9]{6}(?P=t)[0-9]{4,5}"  # Amex 4-6-5, Diners 4-6-4
    + r"|[0-9]{13,19}"
    + r")"
    + NUM_END
)


class CreditCardDetector(PiiDetector):
    name = KIND
    kinds = (KIND,)

    def scan(self, text: str) -> Iterator[tuple[int, int, float]]:
        for match in _PATTERN.finditer(text):
            digits = digits_of(match.group())
            if not luhn_valid(digits) or card_brand(digits) is None:
                continue
            labelled = verdict(text, match.start(), KIND)
            if labelled is False:
                continue
            yield match.start(), match.end(), 0.99 if labelled else 0.9
