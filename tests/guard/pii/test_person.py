import pytest

from mamori.guard.pii.person import PersonDetector
from tests.guard.pii.helpers import spans

DETECTOR = PersonDetector()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("本件は田中花子様にご連絡ください。", ["田中花子"]),
        ("先ほど鈴木さんから電話がありました。", ["鈴木"]),
        ("佐藤一郎氏が就任した。", ["佐藤一郎"]),
        ("依頼者中村美咲、電話番号は後日。", ["中村美咲"]),
        ("お名前：渡辺健一", ["渡辺健一"]),
        ("担当者は小川です。", ["小川"]),
        ("口座名義人 井上直子", ["井上直子"]),
        ("スミスさんが来庁", ["スミス"]),
        ("田中部長と鈴木課長が出席", ["田中", "鈴木"]),
        ("部長の田村が承認", ["田村"]),
    ],
)
def test_names_in_context(text: str, expected: list[str]) -> None:
    assert spans(DETECTOR, text) == expected


def test_name_written_with_a_space_is_one_name() -> None:
    assert spans(DETECTOR, "山田　彩さんへ") == ["山田　彩"]
    assert spans(DETECTOR, "氏名：山田 彩") == ["山田 彩"]


def test_name_after_an_address_does_not_take_the_address() -> None:
    assert spans(DETECTOR, "中央区1丁目2番3号　加藤誠 様") == ["加藤誠"]


@pytest.mark.parametrize(
    "text",
    [
        "お客様各位",
        "皆様のご意見",
        "様式第3号",
        "同様の事例",
        "担当者の方へ",
        "請求者が記入してください",
        "お父さんと来庁",
        "氏名欄は空欄",
        "営業部長が出席",
        "市民課の窓口で相談者が待っている",
    ],
)
def test_no_name(text: str) -> None:
    assert spans(DETECTOR, text) == []


def test_halfwidth_katakana_name_spans_the_original() -> None:
    text = "ﾔﾏﾀﾞ ﾀﾛｳ様"
    found = spans(DETECTOR, text)
    assert found and found[-1].endswith("ﾀﾛｳ")
