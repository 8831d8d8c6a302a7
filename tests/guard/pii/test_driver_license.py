from mamori.guard.pii.driver_license import DriverLicenseDetector
from tests.guard.pii.helpers import spans, to_fullwidth

DETECTOR = DriverLicenseDetector()


def test_labelled_number() -> None:
    assert spans(DETECTOR, "免許証番号：第301234567890号") == ["301234567890"]


def test_fullwidth_in_brackets() -> None:
    wide = to_fullwidth("451234567890")
    assert spans(DETECTOR, f"運転免許証（{wide}）") == [wide]


def test_needs_a_licence_label() -> None:
    assert spans(DETECTOR, "301234567890") == []
    assert spans(DETECTOR, "見積番号301234567890") == []


def test_leading_zero_is_not_an_issuing_code() -> None:
    assert spans(DETECTOR, "免許証番号012345678901") == []
