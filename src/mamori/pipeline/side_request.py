"""Requests mamori itself makes to a model on behalf of a turn (a reasoning summary, a guard
classifier's verdict), routed and refused exactly like the turn.

Such a request carries what the turn holds, so the sovereignty policy decides where it may
go from the turn's class; it is never masked (a verdict or summary over placeholders helps
nobody), and it goes through the same gateway stage: leases, failover and endpoint health.
"""

from __future__ import annotations

import asyncio
from contextlib import aclosing
from dataclasses import dataclass

from mamori.domain.chat import ChatMessage, ContentDelta, SamplingOptions
from mamori.domain.sovereignty import PolicyAction
from mamori.errors import MamoriError
from mamori.gateway.registry import EndpointRegistry
from mamori.pipeline.stages.route import decision_detail
from mamori.pipeline.stages.stream import GatewayStreamStage
from mamori.pipeline.turn import ChatTurn
from mamori.policy.route import plan_route
from mamori.policy.sovereignty import Policy


@dataclass(frozen=True, slots=True)
class SideRequest:
    model: str
    messages: list[ChatMessage]
    max_tokens: int
    timeout: float
    # Where its decisions are recorded on the turn, and the prefix of their rule ids.
    stage: str
    rule: str


class SideModel:
    def __init__(self, registry: EndpointRegistry, policy: Policy) -> None:
        self.registry = registry
        self.policy = policy
        self.gateway = GatewayStreamStage(registry)

    async def ask(self, turn: ChatTurn, side: SideRequest) -> str | None:
        """The model's answer, or None when the policy refuses it or the request fails."""
        plan = plan_route(
            side.model,
            turn.data_class,
            self.registry.endpoints(),
            policy=self.policy,
            is_healthy=self.registry.is_healthy,
            in_flight=self.registry.in_flight,
        )
        decision = plan.decision
        if decision.action not in (PolicyAction.ALLOW, PolicyAction.REROUTE):
            turn.decide(side.stage, "skip", decision.rule_id, **decision_detail(decision))
            return None
        request = ChatTurn(
            principal=turn.principal,
            model=side.model,
            messages=side.messages,
            sampling=SamplingOptions(max_tokens=side.max_tokens),
            reasoning_effort="low",
            classification=turn.classification,
            special_personal=turn.special_personal,
            candidates=list(plan.candidates),
        )
        parts: list[str] = []
        try:
            async with asyncio.timeout(side.timeout):
                async with aclosing(self.gateway.stream(request)) as events:
                    async for event in events:
                        if type(event) is ContentDelta:
                            parts.append(event.text)
        except (MamoriError, TimeoutError) as exc:
            turn.decide(
                side.stage,
                "skip",
                f"{side.rule}-failed",
                endpoint=request.endpoint.name if request.endpoint else "",
                error=getattr(exc, "code", "timeout"),
            )
            return None
        endpoint = request.endpoint.name if request.endpoint else ""
        turn.decide(side.stage, "ask", side.rule, endpoint=endpoint, model=side.model)
        return "".join(parts).strip()
