"""The sovereignty policy and its decisions as the admin page reads them."""

from __future__ import annotations

from mamori.domain.endpoint import Endpoint
from mamori.domain.sovereignty import PolicyDecision
from mamori.gateway.registry import EndpointRegistry
from mamori.policy.sovereignty import Policy, Rule


def _text(lang: str, ja: str, en: str) -> str:
    return en if lang == "en" else ja


def rule_json(rule: Rule, lang: str) -> dict[str, object]:
    match = rule.endpoint
    conditions: dict[str, object] = {}
    if match.residency is not None:
        conditions["residency"] = sorted(r.value for r in match.residency)
    for name in (
        "terms_of_service",
        "trains_on_inputs",
        "approved_for_masked",
        "within_max_classification",
    ):
        value = getattr(match, name)
        if value is not None:
            conditions[name] = value
    data = [c.label_ja if lang != "en" else c.label_en for c in sorted(rule.classes)]
    if rule.special_personal:
        data.append("特定個人情報" if lang != "en" else "Specific personal information")
    return {
        "id": rule.id,
        "description": _text(lang, rule.description_ja, rule.description_en),
        "data": data,
        "endpoint": conditions,
        "effect": rule.effect.value,
        "advice": _text(lang, rule.advice_ja, rule.advice_en),
    }


def endpoint_json(endpoint: Endpoint) -> dict[str, object]:
    trust = endpoint.trust
    return {
        "name": endpoint.name,
        "residency": endpoint.residency.value,
        "models": sorted(endpoint.models),
        "assessed": endpoint.assessed_trust is not None,
        "max_classification": int(trust.max_classification),
        "trains_on_inputs": trust.trains_on_inputs,
        "terms_of_service": trust.terms_of_service,
        "approved_for_masked": trust.approved_for_masked,
    }


def policy_json(policy: Policy, registry: EndpointRegistry, lang: str) -> dict[str, object]:
    findings = {
        kind: data.label_en if lang == "en" else data.label_ja
        for kind, data in sorted(policy.finding_classes.items())
    }
    return {
        "source": policy.source,
        "rules": [rule_json(r, lang) for r in policy.rules],
        "findings": findings,
        "endpoints": [endpoint_json(e) for e in registry.endpoints()],
        "models": sorted(m.name for m in registry.models()),
    }


def decision_json(policy: Policy, decision: PolicyDecision, lang: str) -> dict[str, object]:
    rule = policy.rule(decision.rule_id)
    data = decision.data_class
    return {
        "action": decision.action.value,
        "rule_id": decision.rule_id,
        "rule": rule_json(rule, lang) if rule else None,
        "classification": int(data.classification),
        "special_personal": data.special_personal,
        "data": data.label_en if lang == "en" else data.label_ja,
        "model": decision.model,
        "endpoint": decision.endpoint,
        "allowed": list(decision.allowed),
        "refused": [
            {
                "endpoint": r.endpoint,
                "rule_id": r.rule_id,
                "reason": _text(lang, r.reason_ja, r.reason_en),
            }
            for r in decision.refused
        ],
        "message": decision.message(lang) if decision.message_ja else "",
    }
