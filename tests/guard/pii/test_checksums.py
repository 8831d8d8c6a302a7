import pytest

from mamori.guard.pii.checksums import (
    card_brand,
    corporate_number_valid,
    luhn_valid,
    my_number_valid,
)


def test_my_number_known_valid() -> None:
    assert my_number_valid("621498320257")


@pytest.mark.parametrize("bad", ["621498320258", "62149832025", "6214983202577", "abcdefghijkl"])
def test_my_number_rejects(bad: str) -> None:
    assert not my_number_valid(bad)


def test_every_single_digit_error_is_caught() -> None:
    good = "621498320257"
    for i in range(12):
        for d in "0123456789":
            if d != good[i]:
                assert not my_number_valid(good[:i] + d + good[i + 1 :])


@pytest.mark.parametrize("good", ["5835678256246", "1180301018771"])
def test_corporate_number_known_valid(good: str) -> None:
    assert corporate_number_valid(good)


def test_corporate_number_check_digit_is_first() -> None:
    assert not corporate_number_valid("6835678256246")
    assert not corporate_number_valid("5835678256247")


@pytest.mark.parametrize(
    ("number", "brand"),
    [
        ("4111111111111111", "visa"),
        ("5555555555554444", "mastercard"),
        ("2223003122003222", "mastercard"),
        ("378282246310005", "amex"),
        ("3530111333300000", "jcb"),
        ("30569309025904", "diners"),
        ("6011111111111117", "discover"),
    ],
)
def test_test_cards(number: str, brand: str) -> None:
    assert luhn_valid(number)
    assert card_brand(number) == brand


def test_unknown_prefix_or_length() -> None:
    assert card_brand("9111111111111111") is None
    assert card_brand("411111111111111") is None  # Visa never has 15 digits
