"""住所: a reasoned pattern over the grammar of a Japanese address.

    [prefecture] municipality{1,3} [town name] block

where the municipality ends in 市/区/町/村 (optionally after a 郡), the town name is kanji/kana,
and the block is 丁目/番地/号 or digits joined by hyphens (1-2-3). An address either starts at a
prefecture (strong) or at a municipality and then needs the block (a city name alone is not an
address of a person). Building names and room numbers are left out: they have no grammar to
stop at.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from mamori.guard.pii._base import HIRAGANA, KANJI, KATAKANA, PiiDetector
from mamori.guard.pii.prefectures import PREFECTURE_RE

KIND = "address"
_NUM = r"(?:[0-9]{1,4}|[一二三四五六七八九十〇]{1,3})"
_BLOCK = (
    rf"(?:{_NUM}丁目(?:[0-9]{{1,5}}(?:番地?|-)(?:[0-9]{{1,4}}(?:号|-[0-9]{{1,4}})?)?)?"
    r"|[0-9]{1,5}番地?(?:の?[0-9]{1,4}号?)?"
    r"|[0-9]{1,5}(?:-[0-9]{1,5}){1,3})"
    r"(?![0-9])"
)
_NAME = f"[{KANJI}{KATAKANA}{HIRAGANA}]"
# Hiragana only as a whole city name (さいたま市, つくば市), never as a particle before one.
_MUNI = (
    rf"(?:[{KANJI}{KATAKANA}]{{1,5}}?郡)?"
    rf"(?:[{KANJI}{KATAKANA}]{{1,6}}?[市区町村]|[{HIRAGANA}]{{2,5}}市){{1,3}}"
)
# Without a prefecture the municipality may not take hiragana: that would swallow the particle
# before it (「住所は大阪市…」).
_MUNI_STRICT = rf"(?:[{KANJI}{KATAKANA}]{{1,6}}?[市区町村]){{1,3}}"
# Sapporo-style towns carry numbers before the block: 北1条西2丁目.
_TOWN = rf"(?:{_NAME}|[0-9]{{1,2}}条){{0,10}}?"
_PATTERN = re.compile(
    rf"(?P<pref>{PREFECTURE_RE}){_MUNI}(?:{_TOWN}{_BLOCK})?"
    # A label glued to the municipality is not part of it (tried before the bare form).
    rf"|(?P<lead>現住所|住所|所在地|居所|本籍|送付先)[:]?[ ]?{_MUNI_STRICT}{_TOWN}{_BLOCK}"
    rf"|(?<![{KANJI}{KATAKANA}]){_MUNI_STRICT}{_TOWN}{_BLOCK}"
)


class AddressDetector(PiiDetector):
    name = KIND
    kinds = (KIND,)

    def scan(self, text: str) -> Iterator[tuple[int, int, float]]:
        for match in _PATTERN.finditer(text):
            start = match.start()
            lead = match.group("lead")
            if lead is not None:
                start = match.start("lead") + len(lead)
                while text[start] in ": ":
                    start += 1
            has_block = match.group().rstrip()[-1:] in "0123456789号目地"
            if match.group("pref") is not None and not has_block:
                score = 0.7  # prefecture and city: a place, identifying only with more context
            else:
                score = 0.95 if match.group("pref") is not None else 0.85
            yield start, match.end(), score
