import pytest

from mamori.guard.pii.bank_account import BankAccountDetector
from tests.guard.pii.helpers import spans, to_fullwidth

DETECTOR = BankAccountDetector()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("みずほ銀行渋谷支店 普通 1234567", "渋谷支店 普通 1234567"),
        ("振込先：店番号 045 当座預金 7654321", "店番号 045 当座預金 7654321"),
        ("普通預金口座 0012345 へ", "普通預金口座 0012345"),
        ("口座番号：7654321", "7654321"),
        ("ゆうちょ銀行 記号 12345 番号 67890123", "記号 12345 番号 67890123"),
        ("ゆうちょ口座 12340-1234567", "12340-1234567"),
    ],
)
def test_accounts(text: str, expected: str) -> None:
    assert spans(DETECTOR, text) == [expected]


def test_fullwidth() -> None:
    text = to_fullwidth("普通 1234567")
    assert spans(DETECTOR, f"口座：{text}") == [text]


@pytest.mark.parametrize(
    "text", ["受付番号1234567", "普通は1234567件", "口座番号12345678", "会員 12340-1234567"]
)
def test_look_alikes(text: str) -> None:
    assert spans(DETECTOR, text) == []
