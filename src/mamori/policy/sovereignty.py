"""The sovereignty policy: which data class may reach which endpoint, and ``decide``.

The rule language (a TOML file; ``default_policy.toml`` is the shipped default)::

    version = 1

    [[rules]]
    id = "c3-onprem"                       # unique; lower case, digits, '-' and '.'
    description_ja = "機密性3 ... はオンプレミスのみ。"
    description_en = "機密性3 ... on-prem only."
    data = ["機密性3", "特定個人情報"]      # the rule applies to these data classes
    endpoint = { residency = ["onprem"], terms_of_service = false }   # optional
    effect = "allow"                       # allow | mask | deny
    advice_ja = "..."                      # optional; what to do instead, shown on deny
    advice_en = "..."

For each endpoint serving the model, the rules are tried in file order and the first rule
whose ``data`` and ``endpoint`` both match decides that endpoint: ``allow`` sends the text,
``mask`` sends it only after pseudonymisation, ``deny`` refuses. No matching rule refuses
(rule ``policy.no-match``): the policy is deny by default, never "allow all".

``data`` lists classes by name (公開, 機密性1, 機密性2, 機密性3 or public, c1, c2, c3) and may
list 特定個人情報 (or special_personal); it matches when the turn's class is listed, or when
the turn holds 特定個人情報 and that is listed. ``endpoint`` keys must all hold: ``residency``
(a list of onprem, domestic_cloud, foreign), the flags ``terms_of_service``,
``trains_on_inputs`` and ``approved_for_masked``, and ``within_max_classification`` (the
turn's class is at most the endpoint's ``max_classification``). An empty or absent
``endpoint`` matches every endpoint.

The loader (``sovereignty_file``) refuses a file that lets 要機密情報 reach a 約款型 endpoint
(an allow or mask rule for 機密性2/3 or 特定個人情報 without ``terms_of_service = false``)
and a ``mask`` rule that does not require ``approved_for_masked = true``.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Protocol

from mamori.domain.classification import Classification
from mamori.domain.endpoint import Endpoint, EndpointTrust, Residency
from mamori.domain.guard import GuardAction, InjectionAction
from mamori.domain.principal import Principal
from mamori.domain.sovereignty import (
    DataClass,
    PolicyAction,
    PolicyDecision,
    RefusedEndpoint,
)
from mamori.errors import ConfigError

RULE_NO_MATCH = "policy.no-match"
RULE_NO_ENDPOINT = "policy.no-endpoint"
RULE_MASK_UNAVAILABLE = "policy.mask-unavailable"


class Effect(StrEnum):
    ALLOW = "allow"
    MASK = "mask"
    DENY = "deny"


@dataclass(frozen=True, slots=True)
class EndpointMatch:
    """Conditions on an endpoint's trust; None means "any"."""

    residency: frozenset[Residency] | None = None
    terms_of_service: bool | None = None
    trains_on_inputs: bool | None = None
    approved_for_masked: bool | None = None
    within_max_classification: bool | None = None

    def matches(self, trust: EndpointTrust, data: DataClass) -> bool:
        within = data.classification <= trust.max_classification
        checks = (
            (self.residency, trust.residency in (self.residency or ())),
            (self.terms_of_service, trust.terms_of_service == self.terms_of_service),
            (self.trains_on_inputs, trust.trains_on_inputs == self.trains_on_inputs),
            (self.approved_for_masked, trust.approved_for_masked == self.approved_for_masked),
            (self.within_max_classification, within == self.within_max_classification),
        )
        return all(ok for condition, ok in checks if condition is not None)


@dataclass(frozen=True, slots=True)
class Rule:
    id: str
    description_ja: str
    description_en: str
    classes: frozenset[Classification]
    special_personal: bool
    effect: Effect
    endpoint: EndpointMatch = field(default_factory=EndpointMatch)
    advice_ja: str = ""
    advice_en: str = ""

    def applies_to(self, data: DataClass) -> bool:
        return data.classification in self.classes or (
            self.special_personal and data.special_personal
        )

    @property
    def covers_confidential(self) -> bool:
        """Whether the rule can apply to 要機密情報."""
        return self.special_personal or any(c.is_confidential for c in self.classes)


_C2 = DataClass(Classification.C2)

DEFAULT_INJECTION_ACTIONS: Mapping[str, InjectionAction] = {
    "user": InjectionAction.WARN,
    "document": InjectionAction.DROP,
    "tool": InjectionAction.DROP,
    "answer": InjectionAction.WARN,
}

# What each kind of detector finding raises a turn to, unless the policy file's [findings]
# says otherwise. A My Number makes anything 特定個人情報 at 機密性3; any other personal
# datum makes it 要機密情報 (機密性2). 法人番号 are public by law, but in a bank's or a
# city's text they sit in customer and contractor records, so they raise it too.
DEFAULT_FINDING_CLASSES: Mapping[str, DataClass] = {
    "my_number": DataClass(Classification.C3, special_personal=True),
    **{
        kind: _C2
        for kind in (
            "person",
            "phone",
            "email",
            "postal_code",
            "address",
            "birth_date",
            "bank_account",
            "credit_card",
            "passport",
            "driver_license",
            "pension_number",
            "corporate_number",
        )
    },
}


# The lowest class a policy file may map each kind of personal datum to: a file may raise
# them, never lower them (a My Number always makes data 特定個人情報). 法人番号 are public by
# law, so a file may lower those.
FINDING_FLOOR: Mapping[str, DataClass] = {
    kind: data for kind, data in DEFAULT_FINDING_CLASSES.items() if kind != "corporate_number"
}


@dataclass(frozen=True, slots=True)
class Policy:
    rules: tuple[Rule, ...]
    source: str = "<default>"
    # Detector finding kind -> the class it raises a turn to; kinds not listed raise nothing.
    finding_classes: Mapping[str, DataClass] = field(
        default_factory=lambda: dict(DEFAULT_FINDING_CLASSES)
    )
    # What the guard does with each kind of finding wherever the turn goes; kinds not listed
    # are flagged (recorded). A turn that may only go out masked pseudonymises them anyway.
    actions: Mapping[str, GuardAction] = field(default_factory=dict)
    # What happens to a text judged an injection attempt, by its source. A user may write
    # "ignore my earlier request"; a retrieved document or a tool result has no authority to
    # instruct the model at all, so those are kept out of its context.
    injection: Mapping[str, InjectionAction] = field(
        default_factory=lambda: dict(DEFAULT_INJECTION_ACTIONS)
    )
    # Groups whose members must not see personal data in answers (e.g. outsourced staff).
    answer_masked_groups: frozenset[str] = frozenset()

    def masks_answers_for(self, principal: Principal) -> bool:
        return any(g.name in self.answer_masked_groups for g in principal.groups)

    def guard_actions(self, decision: PolicyDecision) -> dict[str, GuardAction]:
        """The action for every classified finding kind, given where the turn goes."""
        masked = decision.action is PolicyAction.MASK_THEN_ALLOW
        result: dict[str, GuardAction] = {}
        for kind in {*self.finding_classes, *self.actions}:
            action = self.actions.get(kind, GuardAction.FLAG)
            if masked and action is GuardAction.FLAG and kind in self.finding_classes:
                action = GuardAction.PSEUDONYMISE
            result[kind] = action
        return result

    def rule(self, rule_id: str) -> Rule | None:
        return next((r for r in self.rules if r.id == rule_id), None)


_NO_MATCH = Rule(
    id=RULE_NO_MATCH,
    description_ja="どの規則にも当てはまらないため送信しません（既定は拒否）。",
    description_en="No rule matches, so nothing is sent (the default is to refuse).",
    classes=frozenset(),
    special_personal=False,
    effect=Effect.DENY,
)


def first_match(policy: Policy, data: DataClass, trust: EndpointTrust) -> Rule:
    """The rule that decides this endpoint for this data: the first one matching both."""
    for rule in policy.rules:
        if rule.applies_to(data) and rule.endpoint.matches(trust, data):
            return rule
    return _NO_MATCH


def decide(
    policy: Policy,
    data: DataClass,
    model: str,
    endpoints: Sequence[Endpoint],
    preferred_endpoint: str | None = None,
) -> PolicyDecision:
    """Where a turn of class ``data`` for ``model`` may go, and the rule that says so.

    ``endpoints`` come in routing order (healthy and least busy first); ``preferred_endpoint``
    is where routing would send the turn without a policy, so going elsewhere is a reroute.
    An endpoint allowed outright beats masking: unmasked text on a compliant endpoint loses
    nothing, and masked text on a less trusted one may still leak context. The decision lists
    every endpoint of the winning kind, best first, for failover.
    """
    serving = [e for e in endpoints if model in e.models]
    serving.sort(key=lambda e: e.name != preferred_endpoint)
    if not serving:
        return _deny_no_endpoint(data, model)
    verdicts = [(e.name, first_match(policy, data, e.trust)) for e in serving]
    allowed = [(name, r) for name, r in verdicts if r.effect is Effect.ALLOW]
    masked = [(name, r) for name, r in verdicts if r.effect is Effect.MASK]
    refused = tuple(_refusal(name, r) for name, r in verdicts if r.effect is Effect.DENY)
    if allowed:
        name, rule = allowed[0]
        rerouted = preferred_endpoint is not None and name != preferred_endpoint
        action = PolicyAction.REROUTE if rerouted else PolicyAction.ALLOW
        names = tuple(n for n, _ in allowed)
        return PolicyDecision(action, rule.id, data, model, name, refused, allowed=names)
    if masked:
        name, rule = masked[0]
        names = tuple(n for n, _ in masked)
        action = PolicyAction.MASK_THEN_ALLOW
        return PolicyDecision(action, rule.id, data, model, name, refused, allowed=names)
    rule = verdicts[0][1]
    ja, en = deny_messages(rule, data)
    deny = PolicyAction.DENY
    return PolicyDecision(deny, rule.id, data, model, None, refused, message_ja=ja, message_en=en)


def _refusal(endpoint: str, rule: Rule) -> RefusedEndpoint:
    return RefusedEndpoint(endpoint, rule.id, rule.description_ja, rule.description_en)


_ADVICE_JA = "機密性の低い内容に書き換えるか、オンプレミスのモデルを選んでください。"
_ADVICE_EN = "Rewrite the text at a lower classification, or choose an on-prem model."


def deny_messages(rule: Rule, data: DataClass) -> tuple[str, str]:
    """The refusal in Japanese and English: the rule, its reason and what to do instead."""
    ja = (
        f"{data.label_ja}の情報はこのモデルに送信できません（規則 {rule.id}: "
        f"{rule.description_ja}）。{rule.advice_ja or _ADVICE_JA}"
    )
    en = (
        f"{data.label_en} data cannot be sent to this model (rule {rule.id}: "
        f"{rule.description_en}) {rule.advice_en or _ADVICE_EN}"
    )
    return ja, en


def _deny_no_endpoint(data: DataClass, model: str) -> PolicyDecision:
    ja = f"モデル {model} を提供するエンドポイントがありません。別のモデルを選んでください。"
    en = f"No endpoint serves the model {model}. Choose another model."
    return PolicyDecision(
        PolicyAction.DENY, RULE_NO_ENDPOINT, data, model, None, message_ja=ja, message_en=en
    )


def mask_unavailable(decision: PolicyDecision) -> PolicyDecision:
    """A "mask then allow" turn refused, because nothing here can pseudonymise it yet."""
    rule = decision.rule_id
    return dataclasses.replace(
        decision,
        action=PolicyAction.DENY,
        rule_id=RULE_MASK_UNAVAILABLE,
        endpoint=None,
        allowed=(),
        message_ja=(
            f"{decision.data_class.label_ja}の情報は、仮名化してからでなければこのモデルに送信"
            f"できません（規則 {rule}）が、仮名化機能が有効ではありません。"
            "オンプレミスのモデルを選んでください。"
        ),
        message_en=(
            f"{decision.data_class.label_en} data may reach this model only after "
            f"pseudonymisation (rule {rule}), and pseudonymisation is not enabled. "
            "Choose an on-prem model."
        ),
    )


def enforceable(decision: PolicyDecision, *, can_mask: bool) -> PolicyDecision:
    """The decision as it can be carried out here: masking needs a pseudonymiser."""
    if decision.action is PolicyAction.MASK_THEN_ALLOW and not can_mask:
        return mask_unavailable(decision)
    return decision


def require_detectors_for(policy: Policy, detectors: Sequence[Detecting]) -> None:
    """Refuse to run when a finding kind the policy classifies has no detector loaded.

    Without one, that kind is never found and its data passes as whatever the label says:
    the policy would fail open, e.g. on an install whose detector registrations are missing.
    """
    covered = {kind for detector in detectors for kind in detector.kinds}
    missing = sorted(set(policy.finding_classes) - covered)
    if missing:
        raise ConfigError(
            f"no detector is loaded for the finding kinds {', '.join(missing)} that the "
            f"policy {policy.source} classifies; reinstall mamori (uv sync) or remove them "
            "from its [findings]",
            code="detectors_missing",
        )


class Detecting(Protocol):
    """What the check needs of a detector (``mamori.guard.detector.Detector``)."""

    @property
    def kinds(self) -> tuple[str, ...]: ...
