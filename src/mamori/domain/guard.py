"""What the guard does with a finding, as the policy chooses it."""

from __future__ import annotations

from enum import StrEnum


class GuardAction(StrEnum):
    # The turn is refused: nothing is sent anywhere.
    BLOCK = "block"
    # Replaced by its kind (〔電話番号〕) before it leaves; the answer cannot bring it back.
    MASK = "mask"
    # Replaced by a numbered placeholder (〔氏名1〕), the same one for the same value within a
    # conversation, and restored in the answer before the person sees it.
    PSEUDONYMISE = "pseudonymise"
    # Recorded only.
    FLAG = "flag"


class InjectionAction(StrEnum):
    """What happens to a text judged to be a prompt-injection attempt, by where it came from."""

    BLOCK = "block"  # the turn is refused
    DROP = "drop"  # the chunk or tool result is kept out of the model's context
    WARN = "warn"  # recorded; the text goes through
