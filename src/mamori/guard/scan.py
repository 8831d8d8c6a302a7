"""One text judged the way guard.inbound judges it: personal data found, injection verdict.

Shared by `mamori guard scan` and the administrators' "check this text" box, so both show
exactly what the pipeline would see.
"""

from __future__ import annotations

from collections.abc import Sequence

from mamori.domain.decision import Finding
from mamori.guard.detector import Detector
from mamori.guard.injection import is_injection_kind, screen
from mamori.guard.resolve import resolve_overlaps


def scan(text: str, detectors: Sequence[Detector], *, source: str) -> dict[str, object]:
    """Findings (personal data, overlaps resolved) and the injection verdict, as JSON data."""
    found: list[Finding] = []
    for detector in detectors:
        if any(is_injection_kind(kind) for kind in detector.kinds):
            continue  # judged as a whole by ``screen`` below
        found.extend(detector.detect(text, source=source))
    verdict = screen(text, source=source)
    return {
        "findings": [_finding(f) for f in resolve_overlaps(found)],
        "injection": {
            "attack": verdict.attack,
            "score": verdict.score,
            "threshold": verdict.threshold,
            "kinds": list(verdict.kinds),
            "findings": [_finding(f) for f in verdict.findings],
        },
    }


def _finding(finding: Finding) -> dict[str, object]:
    return {
        "start": finding.start,
        "end": finding.end,
        "label": finding.kind,
        "score": round(finding.score, 3),
    }
