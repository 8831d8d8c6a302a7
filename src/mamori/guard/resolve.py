"""Combining what several detectors found in one text."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from mamori.domain.decision import Finding
from mamori.guard.detector import Detector


def resolve_overlaps(findings: Iterable[Finding]) -> list[Finding]:
    """The best set of findings in which no two overlap, in text order.

    Greedy by score, then by length: a checksum-confirmed My Number beats a phone-shaped guess
    over the same digits, and among equals the longer span (an address) beats a piece of it.
    Findings from different sources (user text, a document) never compete.
    """
    ranked = sorted(findings, key=lambda f: (-f.score, -(f.end - f.start), f.start, f.kind))
    kept: list[Finding] = []
    for finding in ranked:
        if finding.end <= finding.start:
            continue
        if any(
            k.source == finding.source and k.start < finding.end and finding.start < k.end
            for k in kept
        ):
            continue
        kept.append(finding)
    kept.sort(key=lambda f: (f.source, f.start, f.end))
    return kept


def detect_all(detectors: Sequence[Detector], text: str, *, source: str = "user") -> list[Finding]:
    """Run every detector over ``text`` and keep the best non-overlapping findings."""
    findings: list[Finding] = []
    for detector in detectors:
        findings.extend(detector.detect(text, source=source))
    return resolve_overlaps(findings)
