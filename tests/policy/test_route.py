"""plan_route: who may serve a model, least busy first, and what happens to open circuits."""

from __future__ import annotations

from mamori.domain.classification import Classification
from mamori.domain.endpoint import Endpoint, Residency
from mamori.policy.route import RULE_MODEL_SERVED, RULE_NO_ENDPOINT, plan_route


def endpoint(name: str, *models: str) -> Endpoint:
    return Endpoint(name, f"http://{name}/v1", "vllm", Residency.ONPREM, {m: m for m in models})


ENDPOINTS = [endpoint("a", "m"), endpoint("b", "m"), endpoint("c", "m"), endpoint("x", "other")]


def plan(healthy: set[str], load: dict[str, int]) -> list[str]:
    result = plan_route(
        "m",
        Classification.C1,
        ENDPOINTS,
        is_healthy=lambda n: n in healthy,
        in_flight=lambda n: load.get(n, 0),
    )
    assert result.rule_id == RULE_MODEL_SERVED
    return [e.name for e in result.candidates]


def test_least_busy_first_among_endpoints_serving_the_model() -> None:
    assert plan({"a", "b", "c", "x"}, {"a": 2, "b": 0, "c": 1}) == ["b", "c", "a"]


def test_open_circuits_are_left_out_while_another_endpoint_can_serve() -> None:
    result = plan_route(
        "m",
        Classification.C1,
        ENDPOINTS,
        is_healthy=lambda n: n != "b",
        in_flight=lambda n: {"a": 5}.get(n, 0),
    )
    assert [e.name for e in result.candidates] == ["c", "a"]
    assert result.ejected == ("b",)


def test_when_every_circuit_is_open_all_are_tried_least_busy_first() -> None:
    assert plan(set(), {"a": 3, "b": 1, "c": 2}) == ["b", "c", "a"]


def test_a_model_nobody_serves_has_no_candidates() -> None:
    result = plan_route(
        "nope", Classification.C1, ENDPOINTS, is_healthy=lambda n: True, in_flight=lambda n: 0
    )
    assert result.candidates == () and result.rule_id == RULE_NO_ENDPOINT
