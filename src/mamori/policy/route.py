"""Which endpoints may serve a turn: the sovereignty policy first, then health and load.

Pure: the caller supplies the endpoints, the policy and the endpoints' health.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from mamori.domain.endpoint import Endpoint
from mamori.domain.sovereignty import DataClass, PolicyAction, PolicyDecision
from mamori.policy.sovereignty import RULE_NO_ENDPOINT, Policy, decide

__all__ = ["RULE_NO_ENDPOINT", "RoutePlan", "plan_route"]


@dataclass(frozen=True, slots=True)
class RoutePlan:
    decision: PolicyDecision
    # Endpoints the turn may go to, best first; the gateway fails over along them.
    candidates: tuple[Endpoint, ...]
    # Allowed endpoints left out because their circuit is open.
    ejected: tuple[str, ...] = ()

    @property
    def rule_id(self) -> str:
        return self.decision.rule_id

    @property
    def served(self) -> bool:
        """False when no endpoint serves the model at all (as opposed to a policy refusal)."""
        return self.decision.rule_id != RULE_NO_ENDPOINT


def plan_route(
    model: str,
    data: DataClass,
    endpoints: Sequence[Endpoint],
    *,
    policy: Policy,
    is_healthy: Callable[[str], bool],
    in_flight: Callable[[str], int],
) -> RoutePlan:
    """The policy's decision for ``data`` sent to ``model``, and the endpoints it leaves, in order.

    Routing order is healthy before open-circuit, then least busy. The endpoint that order puts
    first is where the turn would go without a policy, so the policy choosing another one is a
    reroute. Health never widens the policy: an endpoint the policy refuses stays refused even
    when it is the only one up. Among the allowed endpoints, those with an open circuit are left
    out while another can serve; when all look down they all stay, as trying is better than
    refusing on stale health data.
    """
    serving = sorted(
        (e for e in endpoints if model in e.models),
        key=lambda e: (not is_healthy(e.name), in_flight(e.name)),
    )
    preferred = serving[0].name if serving else None
    decision = decide(policy, data, model, serving, preferred)
    if decision.action is PolicyAction.DENY:
        return RoutePlan(decision, ())
    by_name = {e.name: e for e in serving}
    allowed = [by_name[name] for name in decision.allowed]
    healthy = [e for e in allowed if is_healthy(e.name)]
    candidates = healthy or allowed
    ejected = tuple(e.name for e in allowed if e not in candidates)
    return RoutePlan(decision, tuple(candidates), ejected)
