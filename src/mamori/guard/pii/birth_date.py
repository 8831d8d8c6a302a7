"""生年月日: a calendar date (Western or 和暦) that the text says is a birth date.

A date alone is not personal data (meeting minutes are full of them); it becomes one next to
生年月日 / 誕生日 before it, or 生まれ / 生 right after it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from mamori.guard.pii._base import ALNUM_START, NUM_END, PiiDetector
from mamori.guard.pii.context import verdict

KIND = "birth_date"
# Last year of each era, for a plausibility check (令和 is open-ended).
_ERA_YEARS = {"明治": 45, "M": 45, "大正": 15, "T": 15, "昭和": 64, "S": 64, "平成": 31, "H": 31}
_PATTERN = re.compile(
    ALNUM_START
    + r"(?:"
    + r"(?P<y>(?:18|19|20)[0-9]{2})(?:年(?P<m>[0-9]{1,2})月(?P<d>[0-9]{1,2})日"
    + r"|(?P<sep>[/.-])(?P<m2>[0-9]{1,2})(?P=sep)(?P<d2>[0-9]{1,2}))"
    + r"|(?P<era>明治|大正|昭和|平成|令和|[MTSHR])[ ]?(?P<ey>[0-9]{1,2}|元)"
    + r"(?:年[ ]?(?P<em>[0-9]{1,2})月[ ]?(?P<ed>[0-9]{1,2})日"
    + r"|(?P<esep>[/.])(?P<em2>[0-9]{1,2})(?P=esep)(?P<ed2>[0-9]{1,2}))"
    + r")"
    + NUM_END
)
_BIRTH_AFTER = re.compile(r"[ ]?(?:生まれ|生|誕生|出生)")


def _valid(match: re.Match[str]) -> bool:
    month = match.group("m") or match.group("m2") or match.group("em") or match.group("em2")
    day = match.group("d") or match.group("d2") or match.group("ed") or match.group("ed2")
    if not (1 <= int(month) <= 12 and 1 <= int(day) <= 31):
        return False
    era = match.group("era")
    if era is None:
        return True
    year = 1 if match.group("ey") == "元" else int(match.group("ey"))
    return 1 <= year <= _ERA_YEARS.get(era, 99)


class BirthDateDetector(PiiDetector):
    name = KIND
    kinds = (KIND,)

    def scan(self, text: str) -> Iterator[tuple[int, int, float]]:
        if "年" not in text and "/" not in text and "." not in text and "-" not in text:
            return
        for match in _PATTERN.finditer(text):
            if not _valid(match):
                continue
            if verdict(text, match.start(), KIND, window=12) or _BIRTH_AFTER.match(
                text, match.end()
            ):
                yield match.start(), match.end(), 0.95
