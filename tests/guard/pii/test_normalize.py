import pytest

from mamori.guard.pii.normalize import normalize


def test_ascii_is_returned_as_is() -> None:
    norm = normalize("call 090-1234-5678")
    assert norm.text == "call 090-1234-5678"
    assert norm.span(5, 18) == (5, 18)


def test_fullwidth_digits_and_dashes_fold_without_moving_indices() -> None:
    text = "電話０９０－１２３４－５６７８です"
    norm = normalize(text)
    assert norm.text == "電話090-1234-5678です"
    assert norm.starts is None  # same length: identity map


def test_dash_variants_between_digits_become_hyphens() -> None:
    for dash in "ー‐‑–—−":
        assert normalize(f"03{dash}1234{dash}5678").text == "03-1234-5678"


def test_long_vowel_mark_between_letters_is_kept() -> None:
    assert normalize("メール").text == "メール"


def test_expansion_maps_back_to_the_original_character() -> None:
    text = "㈱山田の番号は１２３"
    norm = normalize(text)
    assert norm.text.startswith("(株)山田")
    start = norm.text.index("123")
    assert norm.span(start, start + 3) == (7, 10)
    assert norm.span(0, 3) == (0, 1)  # "(株)" came from one character


def test_halfwidth_voiced_kana_compose_and_map_back() -> None:
    text = "ﾔﾏﾀﾞ様 ０３"
    norm = normalize(text)
    assert norm.text == "ヤマダ様 03"
    i = norm.text.index("ダ")
    assert norm.span(i, i + 1) == (2, 4)  # "ﾀﾞ" is two characters
    j = norm.text.index("03")
    assert text[slice(*norm.span(j, j + 2))] == "０３"


def test_ideographic_space_becomes_a_space() -> None:
    assert normalize("山田　彩").text == "山田 彩"


@pytest.mark.parametrize("invisible", ["\u200b", "\u00ad", "\ufeff", "\u2060"])
def test_invisible_format_characters_vanish_and_spans_still_point_at_the_original(
    invisible: str,
) -> None:
    original = f"番号 1234{invisible}5678{invisible}9018 です"
    normalized = normalize(original)
    assert "123456789018" in normalized.text
    start = normalized.text.index("123456789018")
    a, b = normalized.span(start, start + 12)
    assert original[a:b] == f"1234{invisible}5678{invisible}9018"


def test_a_my_number_split_by_zero_width_spaces_is_still_found() -> None:
    from mamori.guard.pii.my_number import MyNumberDetector

    text = "個人番号 6214\u200b9832\u200b0257 の方"
    [finding] = MyNumberDetector().detect(text, source="user")
    assert text[finding.start : finding.end] == "6214\u200b9832\u200b0257"
