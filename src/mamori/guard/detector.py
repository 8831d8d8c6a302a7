"""The detector interface. Built-in detectors register exactly like third-party ones."""

from __future__ import annotations

from typing import Protocol

from mamori.domain.decision import Finding


class Detector(Protocol):
    """Scans text and reports findings with spans in the original (not normalised) text.

    ``name`` is the detector's registry name; ``kinds`` lists the ``Finding.kind`` values it can
    report, so that a policy can check that every kind it maps has a detector.
    """

    name: str

    @property
    def kinds(self) -> tuple[str, ...]: ...

    def detect(self, text: str, *, source: str) -> list[Finding]: ...
