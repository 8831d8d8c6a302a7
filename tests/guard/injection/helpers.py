"""Assertions shared by the injection tests."""

from mamori.guard.injection import screen


def flagged_kinds(text: str, source: str) -> tuple[str, ...]:
    """The kinds of an attack verdict, or () when the text is judged benign."""
    verdict = screen(text, source=source)
    return verdict.kinds if verdict.attack else ()
