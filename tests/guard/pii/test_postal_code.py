import pytest

from mamori.guard.pii.postal_code import PostalCodeDetector
from tests.guard.pii.helpers import spans, to_fullwidth

DETECTOR = PostalCodeDetector()


@pytest.mark.parametrize("code", ["〒100-8111", "〒 1008111", "〒５３０－０００１"])
def test_postal_mark_is_part_of_the_span(code: str) -> None:
    assert spans(DETECTOR, f"送付先：{code}") == [code]


def test_label() -> None:
    assert spans(DETECTOR, "郵便番号：530-0001") == ["530-0001"]
    assert spans(DETECTOR, "郵便番号 5300001") == ["5300001"]


def test_prefecture_after_the_code() -> None:
    wide = to_fullwidth("060-0001")
    assert spans(DETECTOR, f"{wide}　北海道札幌市") == [wide]


@pytest.mark.parametrize(
    "text",
    ["電話 123-4567", "受付番号123-4567", "部品 123-4567 を交換", "1234-5678", "12-345-6789"],
)
def test_look_alikes(text: str) -> None:
    assert spans(DETECTOR, text) == []
