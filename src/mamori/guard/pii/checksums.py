"""Check digits of Japanese and card numbers. Every function takes a string of ASCII digits."""

from __future__ import annotations


def my_number_valid(digits: str) -> bool:
    """個人番号: 12 digits, the last a mod-11 check digit over weights 6,5,4,3,2,7,6,5,4,3,2."""
    if len(digits) != 12 or not digits.isdigit():
        return False
    # Digit n counted from the right (n = 1..11) weighs n + 1 up to 6 and n - 5 from 7 on.
    total = 0
    for n in range(1, 12):
        weight = n + 1 if n <= 6 else n - 5
        total += int(digits[11 - n]) * weight
    remainder = total % 11
    check = 0 if remainder <= 1 else 11 - remainder
    return check == int(digits[11])


def corporate_number_valid(digits: str) -> bool:
    """法人番号: 13 digits, the FIRST is 9 - (weighted sum mod 9) over the 12 base digits."""
    if len(digits) != 13 or not digits.isdigit():
        return False
    base = digits[1:]
    # From the right, odd positions weigh 1 and even positions 2.
    total = sum(int(d) * (1 if i % 2 == 0 else 2) for i, d in enumerate(reversed(base)))
    return int(digits[0]) == 9 - total % 9


def luhn_valid(digits: str) -> bool:
    if not digits.isdigit() or len(digits) < 2:
        return False
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def card_brand(digits: str) -> str | None:
    """The issuer network for a card number's prefix (IIN) and length, or None if none fits."""
    n = len(digits)
    two, four, six = int(digits[:2]), int(digits[:4]), int(digits[:6])
    if digits[0] == "4" and n in (13, 16, 19):
        return "visa"
    if (51 <= two <= 55 or 2221 <= four <= 2720) and n == 16:
        return "mastercard"
    if two in (34, 37) and n == 15:
        return "amex"
    if 3528 <= four <= 3589 and 16 <= n <= 19:
        return "jcb"
    if (300 <= int(digits[:3]) <= 305 or two in (36, 38, 39)) and 14 <= n <= 19:
        return "diners"
    if (four == 6011 or two == 65 or 644 <= int(digits[:3]) <= 649) and 16 <= n <= 19:
        return "discover"
    if 622126 <= six <= 622925 and 16 <= n <= 19:
        return "discover"
    if two == 62 and 16 <= n <= 19:
        return "unionpay"
    return None
