"""人名: a person's name, found without a NER model.

Names are recognised where Japanese marks them, and confirmed by the morphological dictionary:

1. *Context.* An honorific after the name (様, さん, 氏, 殿, 君, くん, ちゃん) or a role word
   before it (申込者, 担当者, 名義人, 氏名 … any role noun ending in 者/人/主 also counts).
2. *Dictionary.* SudachiPy tags the tokens next to that context; a name is a run of tokens the
   dictionary calls 固有名詞,人名 (surname, given name), with one space allowed between them
   (「山田　彩」 is one name). SudachiPy also decides whether 様 is an honorific at all, so
   様式 or 同様 never trigger.
3. *Unknown names.* Right before an honorific, or after a label that introduces a name
   (氏名, 名義…), a word the dictionary does not know, or a proper noun of 1–4 characters, is
   accepted: rare names are exactly the ones a dictionary lacks.

Only windows around the context words are tokenised, so long documents stay cheap.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from mamori.guard.pii._base import PiiDetector
from mamori.guard.pii._morphology import Token, can_be_name, tokenize

KIND = "person"
_HONORIFICS = frozenset({"様", "さま", "さん", "氏", "殿", "君", "くん", "ちゃん"})
# Titles written after a name (「田中部長」). Unlike honorifics they also follow departments
# (「営業部長」), so the word before must be a name in the dictionary's own reading.
_TITLES = frozenset(
    {"部長", "課長", "係長", "社長", "室長", "所長", "局長", "会長", "院長", "校長", "主任", "先生",
     "教授", "議員", "弁護士", "医師", "税理士", "司法書士"}
)  # fmt: skip
# Labels that are followed by a name, whatever the dictionary thinks of the next word.
_NAME_LABELS = frozenset(
    {"氏名", "名前", "お名前", "名義", "名義人", "口座名義", "宛名", "署名", "フリガナ", "ふりがな"}
)
# Role words that are followed by a name when the next word is a known name.
_ROLES = frozenset({"担当", "代表取締役", "社長", "部長", "課長", "係長", "主任", "院長", "校長"})
_ROLE_ENDINGS = ("者", "人", "主")
# Between a role word and the name: punctuation and the particles of 「申込者は山田」「担当の田中」.
_GAP = frozenset({":", "：", " ", "　", "は", "の", "が", "=", "・"})
_NAME_START = "[\u4e00-\u9fff\u3005\u30a1-\u30fa]"
_TRIGGER = re.compile(
    # An honorific right after a kanji, kana or a space: the name ends before it.
    r"(?<=[\u3005\u3041-\u30ff\u4e00-\u9fff ])(?P<after>様|さま|さん|氏|殿|君|くん|ちゃん"
    r"|[部課係社室所局会院校]長|主任|先生|教授|議員|弁護士|医師|税理士|司法書士)"
    # The last character of a role word or label, with the start of a name close behind.
    rf"|(?P<before>[者人主名義当長]|フリガナ|ふりがな)(?=[:：=・ はのが]{{0,2}}{_NAME_START})"
)
_REACH = 12  # characters a name may extend from its trigger; names are rarely longer than ten
_ROLE_REACH = 6  # characters of the role word before its last character


class PersonDetector(PiiDetector):
    name = KIND
    kinds = (KIND,)

    def scan(self, text: str) -> Iterator[tuple[int, int, float]]:
        seen: set[tuple[int, int]] = set()
        for lo, hi in _windows(text):
            tokens = tokenize(text[lo:hi])
            for start, end, score in _names_in(tokens):
                span = (lo + start, lo + end)
                if span not in seen:
                    seen.add(span)
                    yield span[0], span[1], score


def _windows(text: str) -> Iterator[tuple[int, int]]:
    """Merged windows around every trigger, so that each character is tokenised at most once."""
    lo = hi = -1
    for match in _TRIGGER.finditer(text):
        if match.group("after"):
            start, end = match.start() - _REACH, match.end()
        else:
            start, end = match.start() - _ROLE_REACH, match.end() + _REACH
        start, end = max(0, start), min(len(text), end)
        if start <= hi:
            hi = max(hi, end)
            continue
        if hi > lo:
            yield _snap(text, lo, hi)
        lo, hi = start, end
    if hi > lo:
        yield _snap(text, lo, hi)


def _snap(text: str, lo: int, hi: int) -> tuple[int, int]:
    """Widen a window to a nearby punctuation mark, so it does not cut a word in half."""
    for i in range(lo, max(-1, lo - 4), -1):
        if i == 0 or text[i - 1] in "、。，．,.!?！？「」（）()\n　 ：:":
            lo = i
            break
    for i in range(hi, min(len(text), hi + 4) + 1):
        if i == len(text) or text[i] in "、。，．,.!?！？「」（）()\n　 ：:":
            hi = i
            break
    return lo, hi


def _names_in(tokens: list[Token]) -> Iterator[tuple[int, int, float]]:
    for i, token in enumerate(tokens):
        found = None
        if token.surface in _HONORIFICS and token.pos[0] == "接尾辞":
            found = _name_before(tokens, i)
        elif token.surface in _TITLES:
            # 「田中部長」 names the person before the title, 「部長の田村」 after it.
            found = _name_before(tokens, i, strict=True) or _name_after(tokens, i, strong=False)
        elif _is_role(token):
            found = _name_after(tokens, i, strong=token.surface in _NAME_LABELS)
        if found is not None:
            yield found


def _is_role(token: Token) -> bool:
    if token.surface in _NAME_LABELS or token.surface in _ROLES:
        return True
    return (
        token.pos[1] == "普通名詞"
        and len(token.surface) >= 2
        and token.surface.endswith(_ROLE_ENDINGS)
    )


def _unknown_word(token: Token) -> bool:
    """A word the dictionary lacks, or a proper noun short enough to be a name."""
    if token.is_space or not token.surface:
        return False
    if token.oov:
        return _namelike_chars(token.surface)
    return token.pos[1] == "固有名詞" and token.pos[2] != "組織" and len(token.surface) <= 4


def _namelike_chars(surface: str) -> bool:
    return all(
        ("\u4e00" <= ch <= "\u9fff") or ch in "々ヶ" or ("\u30a1" <= ch <= "\u30fa") or ch == "ー"
        for ch in surface
    )


def _name_before(
    tokens: list[Token], honorific: int, *, strict: bool = False
) -> tuple[int, int, float] | None:
    j = honorific - 1
    if j >= 0 and tokens[j].is_space:
        j -= 1  # 「木村誠 様」
    if j < 0:
        return None
    last = tokens[j]
    run = [last]
    if strict and not last.is_person_name:
        return None
    if not (last.is_person_name or _unknown_word(last)):
        # A given name the dictionary files as a common noun (勇気, 翼) still counts after a
        # surname: 「佐藤翼さん」.
        surname = tokens[j - 1] if j >= 1 else None
        if not (
            surname is not None
            and surname.pos[3] == "姓"
            and last.pos[0] == "名詞"
            and 1 <= len(last.surface) <= 3
            and _namelike_chars(last.surface)
        ):
            return None
    return _extend(tokens, j, run, step=-1)


def _name_after(tokens: list[Token], role: int, *, strong: bool) -> tuple[int, int, float] | None:
    j = role + 1
    while j < len(tokens) and tokens[j].surface in _GAP:
        j += 1
    if j >= len(tokens):
        return None
    first = tokens[j]
    if first.is_person_name:
        return _extend(tokens, j, [first], step=1)
    if strong and _unknown_word(first):
        return _extend(tokens, j, [first], step=1, unknown=True)
    if _ends_phrase(tokens, j + 1) and first.pos[0] == "名詞" and can_be_name(first.surface):
        # 「担当者は小川です」: read as a common noun here, but a surname in the dictionary, and
        # standing alone between the role word and the end of the phrase.
        start, end, _ = _extend(tokens, j, [first], step=1)
        return start, end, 0.75
    return None


def _ends_phrase(tokens: list[Token], k: int) -> bool:
    if k >= len(tokens):
        return True
    nxt = tokens[k]
    return nxt.pos[0] in ("補助記号", "助動詞", "空白") or nxt.surface in ("さん", "様", "氏")


def _extend(
    tokens: list[Token], j: int, run: list[Token], *, step: int, unknown: bool = False
) -> tuple[int, int, float]:
    """Grow a name from token ``j`` over name tokens and at most one space between two of them."""
    k = j + step
    spaced = False
    while 0 <= k < len(tokens):
        token = tokens[k]
        if token.is_space and not spaced and 0 <= k + step < len(tokens):
            after = tokens[k + step]
            if (after.is_person_name or (unknown and _unknown_word(after))) and len(
                after.surface
            ) <= 4:
                spaced = True
                run.append(after)
                k += 2 * step
                continue
            break
        if token.is_person_name or (unknown and _unknown_word(token)):
            run.append(token)
            k += step
            continue
        break
    start = min(t.start for t in run)
    end = max(t.end for t in run)
    parts = {t.pos[3] for t in run if t.is_person_name}
    score = 0.95 if {"姓", "名"} <= parts else 0.85
    return start, end, score
