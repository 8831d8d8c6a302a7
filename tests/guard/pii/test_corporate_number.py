from mamori.guard.pii.corporate_number import CorporateNumberDetector
from tests.guard.pii.helpers import spans, to_fullwidth, with_corporate_check

DETECTOR = CorporateNumberDetector()
VALID = with_corporate_check("700110005901")


def test_valid_with_label() -> None:
    [finding] = DETECTOR.detect(f"当社の法人番号：{VALID}", source="user")
    assert finding.kind == "corporate_number"
    assert finding.score >= 0.99


def test_invoice_registration_number_keeps_the_digits() -> None:
    assert spans(DETECTOR, f"登録番号 T{VALID}") == [VALID]


def test_fullwidth() -> None:
    wide = to_fullwidth(VALID)
    assert spans(DETECTOR, f"法人番号{wide}の会社") == [wide]


def test_bad_check_digit() -> None:
    bad = str((int(VALID[0]) + 1) % 10) + VALID[1:]
    assert spans(DETECTOR, f"法人番号{bad}") == []


def test_part_of_a_longer_number_is_not_reported() -> None:
    assert spans(DETECTOR, f"{VALID}5") == []
    assert spans(DETECTOR, f"X{VALID}") == []
