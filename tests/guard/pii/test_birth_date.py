import pytest

from mamori.guard.pii.birth_date import BirthDateDetector
from tests.guard.pii.helpers import spans, to_fullwidth

DETECTOR = BirthDateDetector()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("生年月日：1985年4月1日", "1985年4月1日"),
        ("生年月日 1985/04/01", "1985/04/01"),
        ("昭和60年4月1日生まれ", "昭和60年4月1日"),
        ("平成元年1月8日生", "平成元年1月8日"),
        ("誕生日は令和2年5月10日です", "令和2年5月10日"),
        ("生年月日 S60.4.1", "S60.4.1"),
    ],
)
def test_birth_dates(text: str, expected: str) -> None:
    assert spans(DETECTOR, text) == [expected]


def test_fullwidth_digits() -> None:
    wide = to_fullwidth("1990") + "年" + to_fullwidth("12") + "月" + to_fullwidth("3") + "日"
    assert spans(DETECTOR, f"生年月日：{wide}") == [wide]


@pytest.mark.parametrize(
    "text",
    [
        "会議は2026年3月4日に開催",
        "2026年5月1日までに提出",
        "生年月日：1985年13月1日",  # no thirteenth month
        "生年月日：昭和70年1月1日",  # 昭和 ended in its 64th year
    ],
)
def test_not_birth_dates(text: str) -> None:
    assert spans(DETECTOR, text) == []
