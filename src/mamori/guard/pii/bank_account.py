"""銀行口座: a 7-digit account number with the words that make it one.

A bank account is written as bank, branch, account type and number (「○○銀行 渋谷支店 普通
1234567」, 「支店番号123 当座 7654321」). Seven digits alone are anything, so the number needs
an account type (普通/当座/貯蓄) or an account label (口座番号) right before it. The span runs
from the first part that identifies the account (branch, then type) to the number; labels alone
(口座番号) are not part of it. ゆうちょ銀行 accounts are 記号 (5 digits) and 番号 (up to 8).
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from mamori.guard.pii._base import KANJI, KATAKANA, NUM_END, NUM_START, PiiDetector

KIND = "bank_account"
_SEP = r"[ 、,]{0,2}"
_BRANCH = (
    r"(?P<branch>(?:支店|店)(?:番号|コード|番)?[:]?[ ]?[0-9]{3}"
    r"|[0-9]{3}[ ]?支店"
    rf"|[{KANJI}{KATAKANA}]{{1,8}}?(?:支店|出張所|営業部))"
)
_TYPE = r"(?:普通|当座|貯蓄|総合)(?:預金)?(?:口座)?"
_NUMBER_LABEL = r"(?:口座番号|口座|番号|No\.?)?[:]?[ ]?"
_PATTERN = re.compile(
    rf"(?:{_BRANCH}{_SEP})?(?P<type>{_TYPE}){_SEP}{_NUMBER_LABEL}(?P<acct>[0-9]{{7}}){NUM_END}"
    rf"|(?P<label>口座番号|口座No\.?)[:]?[ ]?{NUM_START}(?P<bare>[0-9]{{7}}){NUM_END}"
    rf"|(?P<yucho>記号[:]?[ ]?[0-9]{{5}}{_SEP}番号[:]?[ ]?[0-9]{{6,8}}){NUM_END}"
)
_YUCHO_SHAPE = re.compile(NUM_START + r"[0-9]{5}-[0-9]{6,8}" + NUM_END)
_YUCHO_CONTEXT = ("ゆうちょ", "郵便貯金", "振替", "貯金")
# Words that may sit glued before a branch name without being part of it.
_BEFORE_BRANCH = re.compile(r"^.*(?:銀行|金庫|組合|農協|バンク|振込先|振込|口座|送金先|指定)")


def _branch_start(text: str, match: re.Match[str]) -> int:
    start = match.start("branch")
    trimmed = _BEFORE_BRANCH.match(match.group("branch"))
    return start + trimmed.end() if trimmed else start


class BankAccountDetector(PiiDetector):
    name = KIND
    kinds = (KIND,)

    def scan(self, text: str) -> Iterator[tuple[int, int, float]]:
        for match in _PATTERN.finditer(text):
            if match.group("bare") is not None:
                yield match.start("bare"), match.end(), 0.9
            elif match.group("yucho") is not None:
                yield match.start(), match.end(), 0.95
            elif match.group("branch") is not None:
                yield _branch_start(text, match), match.end(), 0.97
            else:
                yield match.start("type"), match.end(), 0.93
        if any(word in text for word in _YUCHO_CONTEXT):
            for match in _YUCHO_SHAPE.finditer(text):
                yield match.start(), match.end(), 0.85
