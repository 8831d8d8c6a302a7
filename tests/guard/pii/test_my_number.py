import pytest

from mamori.guard.pii.my_number import MyNumberDetector
from tests.guard.pii.helpers import spans, to_fullwidth, with_my_number_check

DETECTOR = MyNumberDetector()
VALID = "621498320257"
OTHER = with_my_number_check("12345678901")


def test_valid_number_with_label() -> None:
    text = f"本人の個人番号は{VALID}です。"
    [finding] = DETECTOR.detect(text, source="user")
    assert (finding.kind, text[finding.start : finding.end]) == ("my_number", VALID)
    assert finding.score >= 0.99


def test_valid_number_without_label_scores_lower() -> None:
    [finding] = DETECTOR.detect(f"参考：{OTHER}", source="document")
    assert finding.score < 0.99
    assert finding.source == "document"


@pytest.mark.parametrize("sep", [" ", "-"])
def test_grouped_4_4_4(sep: str) -> None:
    grouped = sep.join([VALID[:4], VALID[4:8], VALID[8:]])
    assert spans(DETECTOR, f"マイナンバー：{grouped}。") == [grouped]


def test_fullwidth_digits_and_spaces_span_the_original() -> None:
    grouped = to_fullwidth(f"{VALID[:4]} {VALID[4:8]} {VALID[8:]}").replace(" ", "　")
    text = f"個人番号　{grouped}を確認"
    assert spans(DETECTOR, text) == [grouped]


def test_bad_checksum_is_never_reported_even_with_a_label() -> None:
    bad = VALID[:-1] + "8"
    assert spans(DETECTOR, f"個人番号{bad}") == []


def test_another_identifiers_label_vetoes_a_valid_checksum() -> None:
    # A licence or receipt number passes the check one time in eleven.
    assert spans(DETECTOR, f"運転免許証（{VALID}）") == []
    assert spans(DETECTOR, f"受付番号{VALID}") == []


def test_mixed_separators_and_longer_runs_are_not_my_numbers() -> None:
    assert spans(DETECTOR, f"{VALID[:4]}-{VALID[4:8]} {VALID[8:]}") == []
    assert spans(DETECTOR, f"1{VALID}") == []
    assert spans(DETECTOR, f"{VALID}-1") == []
    assert spans(DETECTOR, f"ID{VALID}") == []
