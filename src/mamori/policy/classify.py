"""Classification of a turn: the maximum of its labels and of what the detectors found."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Protocol

from mamori.domain.classification import Classification
from mamori.domain.decision import Finding


class Classifier(Protocol):
    def classify(self, *, label: Classification, findings: Iterable[Finding]) -> Classification: ...


class LabelClassifier:
    """The conversation's label, raised by any finding whose kind maps to a higher class.

    The mapping is filled by the policy file (issue: sovereignty policy); it is empty until then,
    so the label alone decides. A label is never lowered.
    """

    def __init__(self, finding_classes: Mapping[str, Classification] | None = None) -> None:
        self.finding_classes = dict(finding_classes or {})

    def classify(self, *, label: Classification, findings: Iterable[Finding]) -> Classification:
        result = label
        for finding in findings:
            result = max(result, self.finding_classes.get(finding.kind, label))
        return result
