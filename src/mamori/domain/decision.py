"""What detectors saw and what the policy decided, as recorded on a turn."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Finding:
    """Something a detector saw in a turn, with its span in the original text."""

    kind: str
    start: int
    end: int
    score: float = 1.0
    source: str = "user"  # user | document | tool | answer


@dataclass(frozen=True, slots=True)
class Decision:
    """One choice a stage made, with the id of the rule that made it."""

    stage: str
    action: str
    rule_id: str
    detail: dict[str, str] = field(default_factory=dict)
