"""plan_route: the policy decides who may serve, then health and load order the rest."""

from __future__ import annotations

from mamori.domain.classification import Classification
from mamori.domain.endpoint import Endpoint, Residency
from mamori.domain.sovereignty import DataClass, PolicyAction
from mamori.policy.route import RULE_NO_ENDPOINT, plan_route
from mamori.policy.sovereignty_file import load_default_policy

POLICY = load_default_policy()
C1 = DataClass(Classification.C1)


def endpoint(name: str, *models: str, residency: Residency = Residency.ONPREM) -> Endpoint:
    return Endpoint(name, f"http://{name}/v1", "vllm", residency, {m: m for m in models})


ENDPOINTS = [endpoint("a", "m"), endpoint("b", "m"), endpoint("c", "m"), endpoint("x", "other")]


def plan(healthy: set[str], load: dict[str, int]) -> list[str]:
    result = plan_route(
        "m",
        C1,
        ENDPOINTS,
        policy=POLICY,
        is_healthy=lambda n: n in healthy,
        in_flight=lambda n: load.get(n, 0),
    )
    assert result.rule_id == "c1-approved"
    return [e.name for e in result.candidates]


def test_least_busy_first_among_endpoints_serving_the_model() -> None:
    assert plan({"a", "b", "c", "x"}, {"a": 2, "b": 0, "c": 1}) == ["b", "c", "a"]


def test_open_circuits_are_left_out_while_another_endpoint_can_serve() -> None:
    result = plan_route(
        "m",
        C1,
        ENDPOINTS,
        policy=POLICY,
        is_healthy=lambda n: n != "b",
        in_flight=lambda n: {"a": 5}.get(n, 0),
    )
    assert [e.name for e in result.candidates] == ["c", "a"]
    assert result.ejected == ("b",)


def test_when_every_circuit_is_open_all_are_tried_least_busy_first() -> None:
    assert plan(set(), {"a": 3, "b": 1, "c": 2}) == ["b", "c", "a"]


def test_a_model_nobody_serves_has_no_candidates() -> None:
    result = plan_route(
        "nope", C1, ENDPOINTS, policy=POLICY, is_healthy=lambda n: True, in_flight=lambda n: 0
    )
    assert result.candidates == () and result.rule_id == RULE_NO_ENDPOINT
    assert not result.served


def test_health_never_widens_the_policy() -> None:
    # The only healthy endpoint is a foreign 約款型 one: 機密性2 still goes on-prem, down or not.
    endpoints = [endpoint("cloud", "m", residency=Residency.FOREIGN), endpoint("gpu", "m")]
    result = plan_route(
        "m",
        DataClass(Classification.C2),
        endpoints,
        policy=POLICY,
        is_healthy=lambda n: n == "cloud",
        in_flight=lambda n: 0,
    )
    assert result.decision.action is PolicyAction.REROUTE
    assert [e.name for e in result.candidates] == ["gpu"]


def test_a_refusal_leaves_no_candidates() -> None:
    endpoints = [endpoint("cloud", "m", residency=Residency.FOREIGN)]
    result = plan_route(
        "m",
        DataClass(Classification.C3),
        endpoints,
        policy=POLICY,
        is_healthy=lambda n: True,
        in_flight=lambda n: 0,
    )
    assert result.decision.action is PolicyAction.DENY and result.served
    assert result.candidates == () and result.rule_id == "confidential-never-tos"
