"""Label words that say what a number is, shared by every numeric detector.

Japanese forms and letters put a label right before a value: ``個人番号：1234…``,
``電話 090-…``, ``受付番号123…``. The nearest label before a candidate decides between look-alikes
of the same shape: a 12-digit number after ``運転免許証`` is a licence even when its digits
happen to pass the My Number checksum, and one after ``受付番号`` is nobody's identifier. Labels
are matched on normalised text (NFKC), so ``ＴＥＬ`` is ``TEL``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

OTHER = "other"  # a label that names a number which is not personal data

# Generic words such as 番号, No. and 第…号 are deliberately not labels: 「年金手帳の番号」 and
# 「免許証番号 第…号」 refer back to the specific word before them.

LABELS: dict[str, tuple[str, ...]] = {
    "my_number": (
        "個人番号カード",
        "マイナンバーカード",
        "個人番号",
        "マイナンバー",
        "My Number",
        "MyNumber",
        "my number",
    ),
    "corporate_number": ("法人番号", "登録番号", "事業者番号"),
    "driver_license": (
        "運転免許証番号",
        "運転免許証",
        "運転免許",
        "免許証番号",
        "免許証",
        "免許番号",
    ),
    "passport": ("旅券番号", "旅券", "パスポート番号", "パスポート", "Passport No", "Passport"),
    "pension_number": ("基礎年金番号", "年金番号", "年金手帳", "年金証書", "年金"),
    "phone": (
        "電話番号",
        "電話",
        "携帯番号",
        "携帯電話",
        "携帯",
        "連絡先",
        "TEL",
        "Tel",
        "tel",
        "FAX",
        "Fax",
        "ファックス",
        "ファクス",
        "内線",
        "直通",
        "代表",
    ),
    "bank_account": (
        "口座番号",
        "口座",
        "普通預金",
        "当座預金",
        "普通",
        "当座",
        "貯蓄",
        "支店番号",
        "支店",
        "店番",
        "記号番号",
        "振込先",
        "ゆうちょ",
    ),
    "credit_card": ("カード番号", "クレジットカード", "クレジット", "Card No", "カード"),
    "postal_code": ("郵便番号", "〒"),
    "email": ("メールアドレス", "メール", "E-mail", "e-mail", "Email", "email", "Mail"),
    "address": ("住所", "所在地", "居所", "本籍", "送付先"),
    "birth_date": ("生年月日", "誕生日", "生年", "出生日", "生まれ", "DOB"),
    OTHER: (
        "受付番号",
        "注文番号",
        "見積書番号",
        "見積番号",
        "請求書番号",
        "伝票番号",
        "文書番号",
        "管理番号",
        "会員番号",
        "整理番号",
        "問い合わせ番号",
        "問合せ番号",
        "お問い合わせ番号",
        "申請番号",
        "契約番号",
        "証券番号",
        "保険証番号",
        "被保険者番号",
        "記号",
        "社員番号",
        "職員番号",
        "学籍番号",
        "患者番号",
        "診察券番号",
        "予約番号",
        "製造番号",
        "型番",
        "品番",
        "商品番号",
        "口座振替",
        "金額",
        "申請額",
        "年収",
        "合計",
        "代表者",
    ),
}

_KIND_OF: dict[str, str] = {word: kind for kind, words in LABELS.items() for word in words}
# Longest first, so that "基礎年金番号" wins over "年金" and "番号" at the same position.
_LONGEST = max(map(len, _KIND_OF))
_LABEL_RE = re.compile("|".join(re.escape(w) for w in sorted(_KIND_OF, key=len, reverse=True)))


@dataclass(frozen=True, slots=True)
class Label:
    kind: str
    word: str
    start: int
    end: int


def nearest_label(text: str, start: int, *, window: int = 12) -> Label | None:
    """The label that ends closest before ``start``, looking back at most ``window`` characters.

    A label further back than the window has probably been answered by another value already.
    """
    lo = max(0, start - window)
    found: Label | None = None
    # Start earlier than the window, so that a label it cuts in half ("…人番号") is still read
    # whole rather than as the generic "番号".
    for match in _LABEL_RE.finditer(text, max(0, lo - _LONGEST), start):
        if match.end() <= lo:
            continue
        word = match.group()
        found = Label(_KIND_OF[word], word, match.start(), match.end())
    return found


def label_kind(text: str, start: int, *, window: int = 12) -> str | None:
    label = nearest_label(text, start, window=window)
    return None if label is None else label.kind


def verdict(text: str, start: int, kind: str, *, window: int = 12) -> bool | None:
    """True when the nearest label names ``kind``, False when it names another kind, else None."""
    found = label_kind(text, start, window=window)
    if found is None:
        return None
    return found == kind
