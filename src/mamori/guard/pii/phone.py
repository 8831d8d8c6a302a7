"""Japanese telephone numbers: mobile (070/080/090), IP (050), landlines, 0120/0570/0800.

Shape does most of the work. Japanese numbers have 10 digits (landline, 0120, 0570) or 11
(mobile, IP, 0800), start with 0, and are grouped with the area code first and a last group
of four (three for 0120/0570). That already leaves out 基礎年金番号 (4-6), bank accounts (7
digits) and 12-digit order numbers. An ungrouped run of digits carries no such evidence, so a
label for another identifier vetoes it and without a phone label it scores low.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from mamori.guard.pii._base import NUM_END, PiiDetector, digits_of
from mamori.guard.pii.context import verdict

KIND = "phone"
_PATTERN = re.compile(
    # Like NUM_START, and a "+" must not precede a number that starts with 0 either.
    r"(?<![0-9A-Za-z+])(?<![0-9]-)(?:"
    # +81 90-1234-5678, +81-3-1234-5678, +81 (0)3 1234 5678: the country code replaces the 0.
    r"(?P<intl>\+81[ -]?(?:\(0\)[ ]?)?[1-9][0-9]{0,3}(?P<i>[ -])[0-9]{1,4}(?P=i)[0-9]{3,4})"
    # (03) 1234-5678 and 03(1234)5678
    r"|(?P<paren>\(0[0-9]{1,4}\)[ ]?[0-9]{1,4}[- ][0-9]{3,4}|0[0-9]{1,4}\([0-9]{1,4}\)[0-9]{3,4})"
    # 090-1234-5678, 03 1234 5678, 0120-123-456
    r"|(?P<grouped>0[0-9]{1,4}(?P<s>[ -])[0-9]{1,4}(?P=s)[0-9]{3,4})"
    # 09012345678, 0312345678
    r"|(?P<plain>0[0-9]{9,10})"
    r")" + NUM_END
)
_ELEVEN_DIGIT_PREFIXES = ("070", "080", "090", "050", "0800", "020")
_THREE_DIGIT_TAIL_PREFIXES = ("0120", "0570", "0990")


def _plausible(digits: str, last_group: int) -> bool:
    """Whether the digits (with the leading 0) form a number of the Japanese numbering plan."""
    if len(digits) == 11:
        return digits.startswith(_ELEVEN_DIGIT_PREFIXES)
    if len(digits) != 10 or digits[1] == "0":
        return False
    if digits.startswith(("050", "070", "080", "090")):
        return False  # these ranges always have 11 digits
    if last_group == 3:
        return digits.startswith(_THREE_DIGIT_TAIL_PREFIXES)
    return True


class PhoneDetector(PiiDetector):
    name = KIND
    kinds = (KIND,)

    def scan(self, text: str) -> Iterator[tuple[int, int, float]]:
        for match in _PATTERN.finditer(text):
            value = match.group()
            digits = digits_of(value)
            if match.group("intl"):
                digits = "0" + digits[2:].removeprefix("0")
            last_group = len(value) - max(value.rfind("-"), value.rfind(" "), value.rfind(")")) - 1
            if match.group("plain"):
                last_group = 4
            labelled = verdict(text, match.start(), KIND)
            if labelled is False:
                continue
            # Under a phone label the writer has said what it is: accept any 10 or 11 digits
            # from 0 (a mistyped or fictitious number is still meant as one).
            if not _plausible(digits, last_group) and not (labelled and len(digits) in (10, 11)):
                continue
            if match.group("plain"):
                score = 0.95 if labelled else 0.6
            else:
                score = 0.98 if labelled else 0.9
            yield match.start(), match.end(), score
