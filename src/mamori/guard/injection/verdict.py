"""The verdict on one text: is it an injection attempt, judged for where it came from.

Thresholds per source (``THRESHOLDS``), applied to the combined score:

- ``user`` 0.70: the user is the principal and may change their mind, ask about prompts or
  name tools; a user text is an attack only with strong evidence (an order aimed at the
  system's rules, a persona without limits, a request for the hidden prompt, a covert
  destructive tool call);
- ``document``, ``tool``, ``answer`` and any other source 0.50: such text has no authority to
  instruct the model, so one instruction-shaped sentence addressed to it is enough.

The combined score is a noisy-or over the kinds (the best finding of each): independent kinds
of evidence (an override plus an exfiltration link) strengthen each other, while several
findings of one kind count once.
"""

from __future__ import annotations

from dataclasses import dataclass

from mamori.domain.decision import Finding
from mamori.guard.injection.scan import scan_text

THRESHOLDS: dict[str, float] = {"user": 0.70, "document": 0.50, "tool": 0.50, "answer": 0.50}
DEFAULT_THRESHOLD = 0.50  # an unknown source is untrusted


@dataclass(frozen=True, slots=True)
class InjectionVerdict:
    """``attack`` when ``score >= threshold``; ``findings`` holds all the evidence."""

    attack: bool
    score: float
    threshold: float
    kinds: tuple[str, ...]
    findings: tuple[Finding, ...]


def threshold_for(source: str) -> float:
    return THRESHOLDS.get(source, DEFAULT_THRESHOLD)


def combine(findings: tuple[Finding, ...]) -> float:
    best: dict[str, float] = {}
    for finding in findings:
        best[finding.kind] = max(best.get(finding.kind, 0.0), finding.score)
    miss = 1.0
    for score in best.values():
        miss *= 1.0 - score
    return round(1.0 - miss, 3)


def screen(text: str, *, source: str = "user") -> InjectionVerdict:
    """Judge ``text`` as coming from ``source`` (user, document, tool, answer)."""
    findings = scan_text(text, source)
    score = combine(findings)
    threshold = threshold_for(source)
    attack = score >= threshold
    kinds = tuple(sorted({f.kind for f in findings})) if attack else ()
    return InjectionVerdict(attack, score, threshold, kinds, findings)
