"""Which endpoints may serve a turn. Pure: the caller supplies the endpoints and their health."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from mamori.domain.classification import Classification
from mamori.domain.endpoint import Endpoint

RULE_MODEL_SERVED = "route.model-served"
RULE_NO_ENDPOINT = "route.no-endpoint"


@dataclass(frozen=True, slots=True)
class RoutePlan:
    candidates: tuple[Endpoint, ...]
    rule_id: str


def plan_route(
    model: str,
    classification: Classification,
    endpoints: Sequence[Endpoint],
    *,
    is_healthy: Callable[[str], bool],
    in_flight: Callable[[str], int],
) -> RoutePlan:
    """Endpoints serving ``model``, healthy ones first, then least busy first.

    Unhealthy endpoints stay at the end of the list rather than being dropped: when every
    endpoint looks down, trying is better than refusing on stale health data.
    ``classification`` is accepted now so the sovereignty rules slot in without a new signature.
    """
    del classification  # the rule table arrives with the sovereignty policy issue
    serving = [e for e in endpoints if model in e.models]
    serving.sort(key=lambda e: (not is_healthy(e.name), in_flight(e.name)))
    rule = RULE_MODEL_SERVED if serving else RULE_NO_ENDPOINT
    return RoutePlan(candidates=tuple(serving), rule_id=rule)
