import pytest

from mamori.guard.pii.credit_card import CreditCardDetector
from tests.guard.pii.helpers import spans, to_fullwidth, with_luhn_check

DETECTOR = CreditCardDetector()


@pytest.mark.parametrize(
    "number",
    ["4111 1111 1111 1111", "5555-5555-5555-4444", "3782 822463 10005", "3530111333300000"],
)
def test_known_networks_and_groupings(number: str) -> None:
    assert spans(DETECTOR, f"お支払いカード{number}で決済") == [number]


def test_fullwidth_with_hyphens() -> None:
    wide = to_fullwidth("4111-1111-1111-1111")
    assert spans(DETECTOR, f"カード番号：{wide}") == [wide]


def test_luhn_failure() -> None:
    assert spans(DETECTOR, "カード番号4111 1111 1111 1112") == []


def test_unknown_prefix_even_if_luhn_valid() -> None:
    number = with_luhn_check("911111111111111")
    assert spans(DETECTOR, f"カード番号{number}") == []


def test_order_number_label_vetoes() -> None:
    number = with_luhn_check("411122223333444")
    assert spans(DETECTOR, f"注文番号{number}") == []


def test_inconsistent_grouping_is_not_a_card() -> None:
    assert spans(DETECTOR, "4111 1111-1111 1111") == []
