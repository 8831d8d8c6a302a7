"""郵便番号: NNN-NNNN. Seven digits alone are too common to report without evidence, so one of:
the 〒 mark (kept in the span, as it is part of how the code is written), the 郵便番号 label,
an address label, or a prefecture right after the code (the order of a written address)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from mamori.guard.pii._base import NUM_END, NUM_START, PiiDetector
from mamori.guard.pii.context import label_kind
from mamori.guard.pii.prefectures import PREFECTURE_RE

KIND = "postal_code"
_MARKED = re.compile(r"〒[ ]?[0-9]{3}-?[0-9]{4}" + NUM_END)
_BARE = re.compile(NUM_START + r"[0-9]{3}(?P<dash>-?)[0-9]{4}" + NUM_END)
_PREFECTURE_AFTER = re.compile(r"[ ,、]?" + PREFECTURE_RE)


class PostalCodeDetector(PiiDetector):
    name = KIND
    kinds = (KIND,)

    def scan(self, text: str) -> Iterator[tuple[int, int, float]]:
        marked_ends = set()
        for match in _MARKED.finditer(text):
            marked_ends.add(match.end())
            yield match.start(), match.end(), 0.99
        for match in _BARE.finditer(text):
            if match.end() in marked_ends:
                continue
            label = label_kind(text, match.start(), window=8)
            if label == KIND:
                yield match.start(), match.end(), 0.95
            elif label not in (None, "address"):
                continue  # 電話 123-4567 is a local number, 受付番号 1234567 nothing
            elif _PREFECTURE_AFTER.match(text, match.end()):
                yield match.start(), match.end(), 0.9
            elif label == "address" and match.group("dash"):
                yield match.start(), match.end(), 0.8
