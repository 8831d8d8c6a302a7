"""Classification of a turn: the maximum of its label and of what the detectors found."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from mamori.domain.decision import Finding
from mamori.domain.sovereignty import DataClass


def classify(
    label: DataClass, findings: Iterable[Finding], finding_classes: Mapping[str, DataClass]
) -> DataClass:
    """``label`` raised by every finding whose kind the policy maps to a class; never lowered.

    Finding kinds the mapping does not name (an injection phrase, say) raise nothing.
    """
    result = label
    for finding in findings:
        raised = finding_classes.get(finding.kind)
        if raised is not None:
            result = result | raised
    return result


def raising_kinds(
    label: DataClass, findings: Iterable[Finding], finding_classes: Mapping[str, DataClass]
) -> list[str]:
    """The finding kinds that raised the class above ``label``, for the decision record."""
    kinds = set()
    for finding in findings:
        raised = finding_classes.get(finding.kind)
        if raised is not None and (label | raised) != label:
            kinds.add(finding.kind)
    return sorted(kinds)
