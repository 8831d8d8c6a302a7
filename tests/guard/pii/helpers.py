"""Small helpers for detector tests: find spans by value, and make valid check digits."""

from __future__ import annotations

from mamori.guard.detector import Detector


def spans(detector: Detector, text: str) -> list[str]:
    """The original-text values the detector reports, in order."""
    return [text[f.start : f.end] for f in detector.detect(text, source="user")]


def with_my_number_check(eleven: str) -> str:
    total = sum(int(eleven[10 - i]) * (i + 2 if i < 6 else i - 4) for i in range(11))
    r = total % 11
    return eleven + str(0 if r <= 1 else 11 - r)


def with_corporate_check(twelve: str) -> str:
    total = sum(int(d) * (1 if i % 2 == 0 else 2) for i, d in enumerate(reversed(twelve)))
    return str(9 - total % 9) + twelve


def with_luhn_check(body: str) -> str:
    for check in "0123456789":
        digits = body + check
        total = 0
        for i, ch in enumerate(reversed(digits)):
            d = int(ch) * (2 if i % 2 else 1)
            total += d - 9 if d > 9 else d
        if total % 10 == 0:
            return digits
    raise AssertionError("unreachable")


def to_fullwidth(text: str) -> str:
    return text.translate({c: c + 0xFEE0 for c in range(0x21, 0x7F)})
