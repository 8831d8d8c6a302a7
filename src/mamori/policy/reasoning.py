"""Which reasoning display and effort a turn gets. Pure: the caller supplies who and what model.

Groups grant, models default, the installation decides the rest:
- display: the most revealing setting among the person's groups that set one, else the
  model's, else the installation default (hidden);
- effort: the requested effort, else the model's default; capped by the highest cap among the
  person's groups that set one, else by the installation cap, if any. An uncapped turn with
  no effort leaves the engine's default in place; a capped one is always sent explicitly,
  because the engine's default (medium for gpt-oss) may itself exceed the cap.
"""

from __future__ import annotations

from dataclasses import dataclass

from mamori.domain.chat import ReasoningEffort
from mamori.domain.endpoint import ModelInfo
from mamori.domain.principal import Principal
from mamori.domain.reasoning import (
    DISPLAY_ORDER,
    ENGINE_DEFAULT_EFFORT,
    ReasoningDisplay,
    effort_rank,
)

RULE_DISPLAY_GROUP = "reasoning.display-group"
RULE_DISPLAY_MODEL = "reasoning.display-model"
RULE_DISPLAY_DEFAULT = "reasoning.display-default"
RULE_SUMMARY_UNAVAILABLE = "reasoning.summary-unavailable"
RULE_EFFORT_CAPPED = "reasoning.effort-capped"
RULE_EFFORT_ALLOWED = "reasoning.effort-allowed"


@dataclass(frozen=True, slots=True)
class DisplayDecision:
    display: ReasoningDisplay
    rule_id: str


@dataclass(frozen=True, slots=True)
class EffortDecision:
    requested: ReasoningEffort | None
    # What goes to the engine; None leaves the engine's own default.
    effort: ReasoningEffort | None
    cap: ReasoningEffort | None
    rule_id: str

    @property
    def capped(self) -> bool:
        return self.rule_id == RULE_EFFORT_CAPPED


def decide_display(
    principal: Principal,
    model: ModelInfo | None,
    default: ReasoningDisplay,
    *,
    summariser_available: bool,
) -> DisplayDecision:
    granted = [g.reasoning_display for g in principal.groups if g.reasoning_display is not None]
    if granted:
        decision = DisplayDecision(max(granted, key=DISPLAY_ORDER.index), RULE_DISPLAY_GROUP)
    elif model is not None and model.reasoning_display is not None:
        decision = DisplayDecision(model.reasoning_display, RULE_DISPLAY_MODEL)
    else:
        decision = DisplayDecision(default, RULE_DISPLAY_DEFAULT)
    if decision.display is ReasoningDisplay.SUMMARY and not summariser_available:
        # Showing raw text because no summariser is configured would break the policy.
        return DisplayDecision(ReasoningDisplay.HIDDEN, RULE_SUMMARY_UNAVAILABLE)
    return decision


def decide_effort(
    principal: Principal,
    model: ModelInfo | None,
    requested: ReasoningEffort | None,
    installation_cap: ReasoningEffort | None = None,
) -> EffortDecision:
    wanted = requested
    if wanted is None and model is not None:
        wanted = model.default_reasoning_effort
    caps: list[ReasoningEffort] = [
        g.max_reasoning_effort for g in principal.groups if g.max_reasoning_effort is not None
    ]
    cap = installation_cap
    if caps:
        highest: ReasoningEffort = max(caps, key=effort_rank)
        cap = highest
    if cap is not None and effort_rank(wanted or ENGINE_DEFAULT_EFFORT) > effort_rank(cap):
        return EffortDecision(requested, cap, cap, RULE_EFFORT_CAPPED)
    return EffortDecision(requested, wanted, cap, RULE_EFFORT_ALLOWED)
