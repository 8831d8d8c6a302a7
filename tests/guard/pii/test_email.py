import pytest

from mamori.guard.pii.email import EmailDetector
from tests.guard.pii.helpers import spans

DETECTOR = EmailDetector()


@pytest.mark.parametrize(
    "text",
    [
        "連絡はtaro.yamada@city.example.lg.jpまで",
        "taro.yamada@city.example.lg.jp宛にお送りください",
        "（taro.yamada@city.example.lg.jp）",
        "メール:taro.yamada@city.example.lg.jp。",
    ],
)
def test_address_glued_to_japanese_text(text: str) -> None:
    assert spans(DETECTOR, text) == ["taro.yamada@city.example.lg.jp"]


def test_fullwidth_at_sign_and_letters() -> None:
    text = "ｈａｎａｋｏ＠ｅｘａｍｐｌｅ．ｊｐへ"
    assert spans(DETECTOR, text) == ["ｈａｎａｋｏ＠ｅｘａｍｐｌｅ．ｊｐ"]


def test_plus_and_underscore() -> None:
    assert spans(DETECTOR, "a_b+tag@sub.example.co.jp") == ["a_b+tag@sub.example.co.jp"]


@pytest.mark.parametrize("text", ["@example.jp", "name@localhost", "user@.jp", "価格は@100円"])
def test_not_addresses(text: str) -> None:
    assert spans(DETECTOR, text) == []
