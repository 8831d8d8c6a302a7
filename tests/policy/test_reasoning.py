"""Which reasoning display and effort a turn gets: groups grant, models default."""

from __future__ import annotations

import pytest

from mamori.domain.chat import ReasoningEffort
from mamori.domain.endpoint import ModelInfo
from mamori.domain.principal import Face, Group, Principal, Role
from mamori.domain.reasoning import ReasoningDisplay
from mamori.policy.reasoning import (
    RULE_DISPLAY_DEFAULT,
    RULE_DISPLAY_GROUP,
    RULE_DISPLAY_MODEL,
    RULE_EFFORT_ALLOWED,
    RULE_EFFORT_CAPPED,
    RULE_SUMMARY_UNAVAILABLE,
    decide_display,
    decide_effort,
)

HIDDEN, SUMMARY, RAW = ReasoningDisplay.HIDDEN, ReasoningDisplay.SUMMARY, ReasoningDisplay.RAW


def person(*groups: Group) -> Principal:
    return Principal("u1", "tanaka", frozenset({Role.USER}), Face.UI, groups=groups)


def group(
    name: str, display: ReasoningDisplay | None = None, cap: ReasoningEffort | None = None
) -> Group:
    return Group(name, name, name, reasoning_display=display, max_reasoning_effort=cap)


def model(
    display: ReasoningDisplay | None = None, effort: ReasoningEffort | None = None
) -> ModelInfo:
    return ModelInfo(
        "gpt-oss-120b",
        "gpt-oss",
        ("gpu1",),
        reasoning_display=display,
        default_reasoning_effort=effort,
    )


@pytest.mark.parametrize(
    ("groups", "model_display", "expected", "rule"),
    [
        ((), None, HIDDEN, RULE_DISPLAY_DEFAULT),
        ((), SUMMARY, SUMMARY, RULE_DISPLAY_MODEL),
        ((group("a", HIDDEN),), RAW, HIDDEN, RULE_DISPLAY_GROUP),  # a group overrides the model
        ((group("a", HIDDEN), group("b", RAW)), None, RAW, RULE_DISPLAY_GROUP),
        ((group("a"), group("b", SUMMARY)), RAW, SUMMARY, RULE_DISPLAY_GROUP),
    ],
)
def test_display(
    groups: tuple[Group, ...],
    model_display: ReasoningDisplay | None,
    expected: ReasoningDisplay,
    rule: str,
) -> None:
    decided = decide_display(
        person(*groups), model(model_display), HIDDEN, summariser_available=True
    )
    assert (decided.display, decided.rule_id) == (expected, rule)


def test_summary_without_a_summariser_hides_rather_than_reveals() -> None:
    decided = decide_display(person(group("a", SUMMARY)), model(), RAW, summariser_available=False)
    assert (decided.display, decided.rule_id) == (HIDDEN, RULE_SUMMARY_UNAVAILABLE)


@pytest.mark.parametrize(
    ("requested", "default", "caps", "installation", "sent", "rule"),
    [
        (None, None, (), None, None, RULE_EFFORT_ALLOWED),  # the engine's own default
        (None, "high", (), None, "high", RULE_EFFORT_ALLOWED),
        ("low", "high", (), None, "low", RULE_EFFORT_ALLOWED),
        ("high", None, ("low",), None, "low", RULE_EFFORT_CAPPED),
        # No effort asked: the engine would use medium, which is above the cap.
        (None, None, ("low",), None, "low", RULE_EFFORT_CAPPED),
        (None, None, ("medium",), None, None, RULE_EFFORT_ALLOWED),
        ("high", None, ("low", "high"), None, "high", RULE_EFFORT_ALLOWED),  # groups grant
        ("high", None, (), "medium", "medium", RULE_EFFORT_CAPPED),
        ("high", None, ("high",), "low", "high", RULE_EFFORT_ALLOWED),  # a group lifts it
    ],
)
def test_effort(
    requested: ReasoningEffort | None,
    default: ReasoningEffort | None,
    caps: tuple[ReasoningEffort, ...],
    installation: ReasoningEffort | None,
    sent: ReasoningEffort | None,
    rule: str,
) -> None:
    who = person(*(group(f"g{i}", cap=c) for i, c in enumerate(caps)))
    decided = decide_effort(who, model(effort=default), requested, installation)
    assert (decided.effort, decided.rule_id, decided.requested) == (sent, rule, requested)
