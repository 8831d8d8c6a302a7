"""Sovereignty data: what a turn holds, what an endpoint may be trusted with, what was decided.

Plain data only. The rules that connect them live in ``mamori.policy.sovereignty``.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from mamori.domain.classification import Classification


@dataclass(frozen=True, slots=True)
class DataClass:
    """The class of the data in one turn: a 機密性 plus whether it holds 特定個人情報.

    特定個人情報 (anything holding a My Number) is a flag, not a fifth class: the governance
    rules treat it like 機密性3 for routing, but audits must still tell the two apart.
    """

    classification: Classification = Classification.PUBLIC
    special_personal: bool = False

    def __or__(self, other: DataClass) -> DataClass:
        """The class of data made of both parts: the higher class, and either flag."""
        return DataClass(
            max(self.classification, other.classification),
            self.special_personal or other.special_personal,
        )

    @property
    def is_confidential(self) -> bool:
        """要機密情報: 機密性2 and above, or 特定個人情報 at any class."""
        return self.classification.is_confidential or self.special_personal

    @property
    def label_ja(self) -> str:
        extra = "・特定個人情報" if self.special_personal else ""
        return f"{self.classification.label_ja}{extra}"

    @property
    def label_en(self) -> str:
        extra = " + specific personal information" if self.special_personal else ""
        return f"{self.classification.label_en}{extra}"


class PolicyAction(StrEnum):
    ALLOW = "allow"
    # The same model on another, compliant endpoint than the one preferred.
    REROUTE = "reroute"
    MASK_THEN_ALLOW = "mask_then_allow"
    DENY = "deny"


@dataclass(frozen=True, slots=True)
class RefusedEndpoint:
    """An endpoint serving the model that the policy would not send this turn to, and why."""

    endpoint: str
    rule_id: str
    reason_ja: str
    reason_en: str


@dataclass(frozen=True, slots=True)
class PolicyDecision:
    """What the policy decided for one turn, with the rule that decided and its inputs."""

    action: PolicyAction
    rule_id: str
    data_class: DataClass
    model: str
    # The endpoint the turn goes to; None when denied.
    endpoint: str | None
    refused: tuple[RefusedEndpoint, ...] = ()
    # Every endpoint the decision lets the turn go to, best first: the gateway fails over
    # along them. Empty when denied.
    allowed: tuple[str, ...] = ()
    # Set for deny: names the rule and what to do instead.
    message_ja: str = ""
    message_en: str = ""

    def message(self, language: str) -> str:
        """The deny message in the user's language (Japanese unless English is asked for)."""
        return self.message_en if language.startswith("en") else self.message_ja
