"""Spans point into the original text even where NFKC changed the length before them."""

import pytest

from mamori.guard.registry import default_pii_detectors
from mamori.guard.resolve import detect_all

# Each prefix grows or shrinks under NFKC: ㈱ → (株), ｶﾞ → ガ, ㍻ → 平成, ﬁ → fi.
PREFIXES = ["㈱ｶﾞｲﾄﾞ ", "㍻の件。ﬁle ", "ﾃﾞｰﾀ㌔ "]
CASES = [
    ("phone", "０９０－１２３４－５６７８", "電話"),
    ("my_number", "６２１４ ９８３２ ０２５７", "個人番号"),
    ("email", "ｔａｒｏ＠ｅｘａｍｐｌｅ．ｊｐ", "メール "),
    ("postal_code", "〒５３０－０００１", ""),
    ("person", "ﾔﾏﾀﾞ ﾀﾛｳ", "ご依頼の"),
    ("credit_card", "４１１１－１１１１－１１１１－１１１１", "カード"),
    ("passport", "ＴＫ１２３４５６７", "旅券番号"),
]


@pytest.mark.parametrize("prefix", PREFIXES)
@pytest.mark.parametrize(("kind", "value", "label"), CASES)
def test_span_is_exact_in_the_original(prefix: str, kind: str, value: str, label: str) -> None:
    suffix = "様" if kind == "person" else "。"
    text = f"{prefix}{label}{value}{suffix}"
    findings = [f for f in detect_all(default_pii_detectors(), text) if f.kind == kind]
    assert [text[f.start : f.end] for f in findings] == [value]
