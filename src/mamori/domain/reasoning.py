"""How much of a model's chain of thought a person may see, and how hard it may think."""

from __future__ import annotations

from enum import StrEnum

from mamori.domain.chat import REASONING_EFFORTS, ReasoningEffort


class ReasoningDisplay(StrEnum):
    """What the person asking sees of the model's reasoning.

    HIDDEN is the default, following OpenAI's guidance that raw chain of thought is not held
    to the standard of the final answer: the person sees that the model reasoned, for how long
    and how much, not the text. The raw text is stored either way, for auditors and tool loops.
    """

    HIDDEN = "hidden"
    SUMMARY = "summary"
    RAW = "raw"


# Least revealing first; a person in several groups gets the most any of them grants.
DISPLAY_ORDER: tuple[ReasoningDisplay, ...] = (
    ReasoningDisplay.HIDDEN,
    ReasoningDisplay.SUMMARY,
    ReasoningDisplay.RAW,
)

# What gpt-oss does when no effort is given (harmony's system message defaults to medium).
ENGINE_DEFAULT_EFFORT: ReasoningEffort = "medium"


def effort_rank(effort: ReasoningEffort) -> int:
    return REASONING_EFFORTS.index(effort)
