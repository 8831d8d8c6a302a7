import pytest

from mamori.guard.pii.phone import PhoneDetector
from tests.guard.pii.helpers import spans, to_fullwidth

DETECTOR = PhoneDetector()


@pytest.mark.parametrize(
    "number",
    [
        "090-1234-5678",
        "080 9876 5432",
        "07012345678",
        "050-3456-7890",
        "03-1234-5678",
        "0465-12-3456",
        "(03)1234-5678",
        "03(1234)5678",
        "0120-123-456",
        "0570-000-123",
        "0800-123-4567",
        "+81-90-1234-5678",
        "+81 3 1234 5678",
    ],
)
def test_shapes(number: str) -> None:
    assert spans(DETECTOR, f"お問い合わせは{number}まで") == [number]


def test_fullwidth_and_long_vowel_dashes() -> None:
    wide = to_fullwidth("090-1234-5678")
    assert spans(DETECTOR, f"携帯{wide}") == [wide]
    katakana_dash = "090ー1234ー5678"
    assert spans(DETECTOR, f"携帯{katakana_dash}") == [katakana_dash]


def test_ungrouped_landline_without_label_scores_low() -> None:
    [finding] = DETECTOR.detect("0312345678", source="user")
    assert finding.score < 0.9


@pytest.mark.parametrize(
    "text",
    [
        "基礎年金番号0123-456789",  # 4-6 grouping, and a pension label
        "口座番号0123456",  # seven digits
        "注文番号031234567890",  # twelve digits
        "受付番号0312345678",  # ten digits, but a receipt label
        "金額 1,234,567円",
        "090-1234-56789",  # a group too long
        "0901234567",  # mobile ranges always have eleven digits
        "0012-345-6789",  # 00 is the international prefix
        "4111-0312-3456-7890",  # the tail of a card number
    ],
)
def test_look_alikes(text: str) -> None:
    assert spans(DETECTOR, text) == []


def test_phone_label_accepts_an_unusual_but_intended_number() -> None:
    assert spans(DETECTOR, "電話：0701234567") == ["0701234567"]
