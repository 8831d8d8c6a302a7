import pytest

from mamori.guard.pii.address import AddressDetector
from tests.guard.pii.helpers import spans

DETECTOR = AddressDetector()


@pytest.mark.parametrize(
    "address",
    [
        "神奈川県横浜市港北区日吉本町2丁目5番8号",
        "大阪府大阪市北区梅田３丁目１－１",
        "埼玉県さいたま市浦和区高砂3-15-1",
        "長野県北佐久郡軽井沢町大字軽井沢1323番地",
        "北海道札幌市中央区北1条西2丁目",
        "東京都千代田区霞が関一丁目",
    ],
)
def test_prefecture_addresses(address: str) -> None:
    assert spans(DETECTOR, f"現住所：{address}、電話") == [address]


def test_without_prefecture_needs_a_block() -> None:
    assert spans(DETECTOR, "住所は福岡市博多区博多駅前2-1-1です") == ["福岡市博多区博多駅前2-1-1"]
    assert spans(DETECTOR, "福岡市の天気") == []


def test_label_glued_to_the_municipality_is_left_out() -> None:
    assert spans(DETECTOR, "住所名古屋市中区三の丸3-1-1") == ["名古屋市中区三の丸3-1-1"]


def test_prefecture_and_city_alone_score_low() -> None:
    [finding] = DETECTOR.detect("東京都千代田区にて開催", source="user")
    assert finding.score < 0.8


def test_span_after_fullwidth_and_halfwidth_kana() -> None:
    text = "ｶﾞｲﾄﾞ：京都府京都市左京区吉田本町３６番地"
    assert spans(DETECTOR, text) == ["京都府京都市左京区吉田本町３６番地"]


@pytest.mark.parametrize("text", ["区役所の2番窓口", "市区町村の担当", "第3区1-2"])
def test_not_addresses(text: str) -> None:
    assert spans(DETECTOR, text) == []
