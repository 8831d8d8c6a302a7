"""Stage 4: policy.route — the endpoints allowed to serve this turn, best first."""

from __future__ import annotations

from mamori.errors import UnknownModelError
from mamori.gateway.registry import EndpointRegistry
from mamori.pipeline.turn import ChatTurn
from mamori.policy.route import plan_route


class RouteStage:
    name = "policy.route"

    def __init__(self, registry: EndpointRegistry) -> None:
        self.registry = registry

    async def prepare(self, turn: ChatTurn) -> None:
        plan = plan_route(
            turn.model,
            turn.classification,
            self.registry.endpoints(),
            is_healthy=self.registry.is_healthy,
            in_flight=self.registry.in_flight,
        )
        if not plan.candidates:
            turn.decide(self.name, "deny", plan.rule_id, model=turn.model)
            raise UnknownModelError(f"model {turn.model!r} is not served by any endpoint")
        turn.candidates = list(plan.candidates)
        detail = {"candidates": ",".join(e.name for e in plan.candidates)}
        if plan.ejected:
            detail["ejected"] = ",".join(plan.ejected)
        turn.decide(self.name, "allow", plan.rule_id, **detail)
