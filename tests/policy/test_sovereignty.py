"""decide() under the shipped default policy: the governance table over classes and endpoints."""

from __future__ import annotations

import pytest

from mamori.domain.classification import Classification
from mamori.domain.endpoint import Endpoint, EndpointTrust, Residency, assumed_trust
from mamori.domain.sovereignty import DataClass, PolicyAction
from mamori.policy.sovereignty import (
    RULE_NO_ENDPOINT,
    RULE_NO_MATCH,
    Policy,
    decide,
)
from mamori.policy.sovereignty_file import load_default_policy, parse_policy

C = Classification
MODEL = "gpt-oss-120b"
POLICY = load_default_policy()

ONPREM = EndpointTrust(Residency.ONPREM, C.C3, trains_on_inputs=False, terms_of_service=False)
ISMAP = EndpointTrust(Residency.DOMESTIC_CLOUD, C.C2, False, False)
DOMESTIC = EndpointTrust(Residency.DOMESTIC_CLOUD, C.C1, False, False)
DOMESTIC_TRAINS = EndpointTrust(Residency.DOMESTIC_CLOUD, C.C2, True, False)
MASKED = EndpointTrust(Residency.DOMESTIC_CLOUD, C.C1, False, False, approved_for_masked=True)
FOREIGN_TOS = EndpointTrust(Residency.FOREIGN, C.C1, True, True)
# Even flagged as approved for masking and up to 機密性3, a 約款型 service gets no 要機密情報.
TOS_CLAIMING_ALL = EndpointTrust(Residency.DOMESTIC_CLOUD, C.C3, False, True, True)


def ep(name: str, trust: EndpointTrust | None = None) -> Endpoint:
    """An endpoint assessed as ``trust`` (None: unassessed, on-prem)."""
    residency = trust.residency if trust else Residency.ONPREM
    return Endpoint(
        name, f"http://{name}/v1", "vllm", residency, {MODEL: MODEL}, assessed_trust=trust
    )


def one(trust: EndpointTrust, data: DataClass) -> tuple[PolicyAction, str]:
    decision = decide(POLICY, data, MODEL, [ep("e", trust)], "e")
    return decision.action, decision.rule_id


ALLOW, MASK, DENY = PolicyAction.ALLOW, PolicyAction.MASK_THEN_ALLOW, PolicyAction.DENY
SPECIAL = DataClass(C.C1, special_personal=True)

# (endpoint trust, data) -> expected action and rule; one row per cell of the governance table.
GRID = [
    (ONPREM, DataClass(C.PUBLIC), ALLOW, "c1-approved"),
    (ONPREM, DataClass(C.C1), ALLOW, "c1-approved"),
    (ONPREM, DataClass(C.C2), ALLOW, "c2-onprem-or-approved"),
    (ONPREM, DataClass(C.C3), ALLOW, "c3-onprem"),
    (ONPREM, SPECIAL, ALLOW, "c3-onprem"),
    (ISMAP, DataClass(C.C1), ALLOW, "c1-approved"),
    (ISMAP, DataClass(C.C2), ALLOW, "c2-onprem-or-approved"),
    (ISMAP, DataClass(C.C3), DENY, "c3-refuse"),
    (ISMAP, SPECIAL, DENY, "c3-refuse"),
    (DOMESTIC, DataClass(C.C1), ALLOW, "c1-approved"),
    (DOMESTIC, DataClass(C.C2), DENY, "c2-refuse"),
    (DOMESTIC_TRAINS, DataClass(C.C2), DENY, "c2-refuse"),
    (MASKED, DataClass(C.C1), ALLOW, "c1-approved"),
    (MASKED, DataClass(C.C2), MASK, "c2-masked"),
    (MASKED, DataClass(C.C3), DENY, "c3-refuse"),
    (FOREIGN_TOS, DataClass(C.PUBLIC), ALLOW, "c1-approved"),
    (FOREIGN_TOS, DataClass(C.C1), ALLOW, "c1-approved"),
    (FOREIGN_TOS, DataClass(C.C2), DENY, "confidential-never-tos"),
    (FOREIGN_TOS, DataClass(C.C3), DENY, "confidential-never-tos"),
    (FOREIGN_TOS, SPECIAL, DENY, "confidential-never-tos"),
    (TOS_CLAIMING_ALL, DataClass(C.C2), DENY, "confidential-never-tos"),
    (TOS_CLAIMING_ALL, DataClass(C.C3), DENY, "confidential-never-tos"),
    (TOS_CLAIMING_ALL, DataClass(C.PUBLIC, True), DENY, "confidential-never-tos"),
]


@pytest.mark.parametrize(("trust", "data", "action", "rule"), GRID)
def test_the_default_table(
    trust: EndpointTrust, data: DataClass, action: PolicyAction, rule: str
) -> None:
    assert one(trust, data) == (action, rule)


def test_a_class_above_the_endpoints_maximum_matches_no_rule_and_is_refused() -> None:
    low = EndpointTrust(Residency.DOMESTIC_CLOUD, C.PUBLIC, False, False)
    assert one(low, DataClass(C.C1)) == (DENY, RULE_NO_MATCH)


def test_confidential_data_is_rerouted_from_a_foreign_cloud_to_on_prem() -> None:
    endpoints = [ep("cloud", FOREIGN_TOS), ep("gpu1", ONPREM)]
    decision = decide(POLICY, DataClass(C.C2), MODEL, endpoints, "cloud")
    assert decision.action is PolicyAction.REROUTE
    assert decision.endpoint == "gpu1" and decision.rule_id == "c2-onprem-or-approved"
    assert decision.allowed == ("gpu1",)
    [refused] = decision.refused
    assert (refused.endpoint, refused.rule_id) == ("cloud", "confidential-never-tos")


def test_the_preferred_endpoint_is_kept_when_it_is_allowed() -> None:
    endpoints = [ep("gpu1", ONPREM), ep("cloud", FOREIGN_TOS)]
    decision = decide(POLICY, DataClass(C.C1), MODEL, endpoints, "cloud")
    assert (decision.action, decision.endpoint) == (PolicyAction.ALLOW, "cloud")
    assert decision.refused == ()


def test_without_a_preference_the_first_allowed_endpoint_is_an_allow() -> None:
    endpoints = [ep("cloud", FOREIGN_TOS), ep("gpu1", ONPREM)]
    decision = decide(POLICY, DataClass(C.C3), MODEL, endpoints)
    assert (decision.action, decision.endpoint) == (PolicyAction.ALLOW, "gpu1")


def test_an_unmasked_compliant_endpoint_beats_masking_on_the_preferred_one() -> None:
    endpoints = [ep("saas", MASKED), ep("gpu1", ONPREM)]
    decision = decide(POLICY, DataClass(C.C2), MODEL, endpoints, "saas")
    assert (decision.action, decision.endpoint) == (PolicyAction.REROUTE, "gpu1")


def test_mask_then_allow_when_only_a_masked_endpoint_is_approved() -> None:
    endpoints = [ep("cloud", FOREIGN_TOS), ep("saas", MASKED)]
    decision = decide(POLICY, DataClass(C.C2), MODEL, endpoints, "cloud")
    assert (decision.action, decision.endpoint) == (PolicyAction.MASK_THEN_ALLOW, "saas")
    assert decision.rule_id == "c2-masked"
    assert [r.endpoint for r in decision.refused] == ["cloud"]


def test_special_personal_information_goes_on_prem_only_even_at_a_low_class() -> None:
    endpoints = [ep("ismap", ISMAP), ep("saas", MASKED), ep("cloud", FOREIGN_TOS)]
    decision = decide(POLICY, DataClass(C.PUBLIC, special_personal=True), MODEL, endpoints)
    assert decision.action is PolicyAction.DENY
    assert decision.endpoint is None and decision.rule_id == "c3-refuse"
    assert {r.endpoint: r.rule_id for r in decision.refused} == {
        "ismap": "c3-refuse",
        "saas": "c3-refuse",
        "cloud": "confidential-never-tos",
    }


def test_a_deny_names_the_rule_and_what_to_do_in_both_languages() -> None:
    decision = decide(POLICY, DataClass(C.C3), MODEL, [ep("cloud", FOREIGN_TOS)], "cloud")
    assert "confidential-never-tos" in decision.message("ja")
    assert "オンプレミス" in decision.message("ja")
    assert "confidential-never-tos" in decision.message("en-US")
    assert "on-prem" in decision.message("en")


def test_a_model_no_endpoint_serves_is_denied_with_its_own_rule() -> None:
    decision = decide(POLICY, DataClass(C.PUBLIC), "other-model", [ep("gpu1", ONPREM)])
    assert (decision.action, decision.rule_id) == (PolicyAction.DENY, RULE_NO_ENDPOINT)
    assert "other-model" in decision.message_ja and "other-model" in decision.message_en


def test_the_decision_records_its_inputs() -> None:
    data = DataClass(C.C2)
    decision = decide(POLICY, data, MODEL, [ep("gpu1", ONPREM)])
    assert (decision.data_class, decision.model) == (data, MODEL)


def test_data_made_of_two_parts_takes_the_higher_class_and_either_flag() -> None:
    assert DataClass(C.C1) | DataClass(C.C2) == DataClass(C.C2)
    assert DataClass(C.C3) | DataClass(C.PUBLIC, True) == DataClass(C.C3, True)
    assert DataClass() | DataClass() == DataClass(C.PUBLIC, False)
    combined = DataClass(C.C1) | DataClass(C.PUBLIC, True)
    assert one(FOREIGN_TOS, combined) == (DENY, "confidential-never-tos")


def test_rules_are_tried_in_file_order() -> None:
    text = """
[[rules]]
id = "deny-first"
description_ja = "拒否"
description_en = "deny"
data = ["public"]
effect = "deny"

[[rules]]
id = "allow-later"
description_ja = "許可"
description_en = "allow"
data = ["public"]
effect = "allow"
"""
    policy: Policy = parse_policy(text, "t.toml")
    decision = decide(policy, DataClass(), MODEL, [ep("gpu1", ONPREM)])
    assert (decision.action, decision.rule_id) == (PolicyAction.DENY, "deny-first")


@pytest.mark.parametrize(
    ("residency", "max_class", "tos"),
    [
        (Residency.ONPREM, C.C3, False),
        (Residency.DOMESTIC_CLOUD, C.C1, False),
        (Residency.FOREIGN, C.C1, True),
    ],
)
def test_an_unassessed_endpoint_gets_the_cautious_trust_of_its_residency(
    residency: Residency, max_class: Classification, tos: bool
) -> None:
    endpoint = Endpoint("x", "http://x/v1", "vllm", residency, {MODEL: MODEL})
    trust = endpoint.trust
    assert trust == assumed_trust(residency)
    assert (trust.residency, trust.max_classification, trust.terms_of_service) == (
        residency,
        max_class,
        tos,
    )
    assert not trust.approved_for_masked


def test_a_policy_without_detectors_for_its_finding_kinds_refuses_to_run() -> None:
    from mamori.errors import ConfigError
    from mamori.guard.registry import default_pii_detectors
    from mamori.policy.sovereignty import require_detectors_for

    require_detectors_for(POLICY, default_pii_detectors())
    with pytest.raises(ConfigError, match="my_number") as caught:
        require_detectors_for(POLICY, [])
    assert caught.value.code == "detectors_missing"
