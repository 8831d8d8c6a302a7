"""The detector interface. Built-in detectors will register exactly like third-party ones."""

from __future__ import annotations

from typing import Protocol

from mamori.domain.decision import Finding


class Detector(Protocol):
    """Scans text and reports findings with spans in the original (not normalised) text."""

    name: str

    def detect(self, text: str, *, source: str) -> list[Finding]: ...
