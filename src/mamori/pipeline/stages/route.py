"""policy.route — the sovereignty decision for this turn and the endpoints it allows, best first."""

from __future__ import annotations

from mamori.domain.sovereignty import PolicyAction, PolicyDecision
from mamori.errors import ModelNotInKeyScopeError, PolicyDeniedError, UnknownModelError
from mamori.gateway.registry import EndpointRegistry
from mamori.pipeline.turn import ChatTurn
from mamori.policy.route import RoutePlan, plan_route
from mamori.policy.sovereignty import Policy, enforceable

KEY_SCOPE_RULE = "api_key.models"


class RouteStage:
    name = "policy.route"

    def __init__(
        self, registry: EndpointRegistry, policy: Policy, *, can_mask: bool = False
    ) -> None:
        self.registry = registry
        self.policy = policy
        # Whether the guard can pseudonymise; until it can, "mask then allow" sends nothing.
        self.can_mask = can_mask

    def plan(self, turn: ChatTurn, model: str) -> RoutePlan:
        return plan_route(
            model,
            turn.data_class,
            self.registry.endpoints(),
            policy=self.policy,
            is_healthy=self.registry.is_healthy,
            in_flight=self.registry.in_flight,
        )

    async def prepare(self, turn: ChatTurn) -> None:
        if not turn.principal.may_use_model(turn.model):
            # An API key scoped to other models: refused like a policy denial, and recorded.
            turn.decide(self.name, "deny", KEY_SCOPE_RULE, model=turn.model)
            raise ModelNotInKeyScopeError(f"this API key may not use model {turn.model!r}")
        plan = self.plan(turn, turn.model)
        decision = plan.decision
        if not plan.served:
            turn.policy = decision
            turn.decide(self.name, "deny", decision.rule_id, model=turn.model)
            raise UnknownModelError(f"model {turn.model!r} is not served by any endpoint")
        decision = enforceable(decision, can_mask=self.can_mask)
        turn.policy = decision
        detail = decision_detail(decision)
        if plan.ejected:
            detail["ejected"] = ",".join(plan.ejected)
        turn.decide(self.name, decision.action.value, decision.rule_id, **detail)
        if decision.action is PolicyAction.DENY:
            raise PolicyDeniedError(decision.message(turn.principal.locale))
        turn.candidates = list(plan.candidates)


def decision_detail(decision: PolicyDecision) -> dict[str, str]:
    """The inputs and outcome of a decision, flat, as decisions and audit records keep them."""
    detail = {
        "classification": decision.data_class.classification.name,
        "special_personal": str(decision.data_class.special_personal).lower(),
        "model": decision.model,
        "endpoint": decision.endpoint or "",
        "allowed": ",".join(decision.allowed),
    }
    if decision.refused:
        detail["refused"] = ";".join(f"{r.endpoint}:{r.rule_id}" for r in decision.refused)
    return detail
