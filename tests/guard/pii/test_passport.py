from mamori.guard.pii.passport import PassportDetector
from tests.guard.pii.helpers import spans, to_fullwidth

DETECTOR = PassportDetector()


def test_labelled() -> None:
    [finding] = DETECTOR.detect("パスポート番号：AB1234567", source="user")
    assert finding.score >= 0.95


def test_fullwidth_letters() -> None:
    wide = to_fullwidth("XY7654321")
    assert spans(DETECTOR, f"旅券{wide}") == [wide]


def test_shape_alone_scores_low_and_other_labels_veto() -> None:
    [finding] = DETECTOR.detect("AB1234567", source="user")
    assert finding.score < 0.8
    assert spans(DETECTOR, "型番AB1234567") == []


def test_wrong_shapes() -> None:
    assert spans(DETECTOR, "旅券番号ABC1234567") == []
    assert spans(DETECTOR, "旅券番号AB12345678") == []
    assert spans(DETECTOR, "旅券番号ab1234567") == []
