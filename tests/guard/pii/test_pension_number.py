from mamori.guard.pii.pension_number import PensionNumberDetector
from tests.guard.pii.helpers import spans, to_fullwidth

DETECTOR = PensionNumberDetector()


def test_with_and_without_hyphen() -> None:
    assert spans(DETECTOR, "基礎年金番号：1234-567890") == ["1234-567890"]
    assert spans(DETECTOR, "年金手帳の番号 1234567890") == ["1234567890"]


def test_fullwidth_hyphen() -> None:
    wide = to_fullwidth("2345-678901")
    assert spans(DETECTOR, f"年金番号{wide}") == [wide]


def test_needs_a_pension_label() -> None:
    assert spans(DETECTOR, "1234-567890") == []
    assert spans(DETECTOR, "年金の受付番号1234-567890") == []
