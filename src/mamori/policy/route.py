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
    # Endpoints serving the model that were left out because their circuit is open.
    ejected: tuple[str, ...] = ()


def plan_route(
    model: str,
    classification: Classification,
    endpoints: Sequence[Endpoint],
    *,
    is_healthy: Callable[[str], bool],
    in_flight: Callable[[str], int],
) -> RoutePlan:
    """Endpoints serving ``model`` that may take a request now, least busy first.

    Endpoints whose circuit is open are left out while any other endpoint can serve: sending
    them turns would only add a failed attempt before each answer. When every endpoint looks
    down they all stay, least busy first: trying is better than refusing on stale health data.
    ``classification`` is accepted now so the sovereignty rules slot in without a new signature.
    """
    del classification  # the rule table arrives with the sovereignty policy issue
    serving = [e for e in endpoints if model in e.models]
    healthy = [e for e in serving if is_healthy(e.name)]
    candidates = sorted(healthy or serving, key=lambda e: in_flight(e.name))
    rule = RULE_MODEL_SERVED if candidates else RULE_NO_ENDPOINT
    admitted = {e.name for e in candidates}
    ejected = tuple(e.name for e in serving if e.name not in admitted)
    return RoutePlan(candidates=tuple(candidates), rule_id=rule, ejected=ejected)
