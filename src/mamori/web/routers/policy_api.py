"""The sovereignty policy for administrators: what it says, and what it would decide.

The simulator runs ``decide`` over the live endpoint set, exactly as ``policy.route`` does for a
turn and ``mamori policy explain`` does on the command line.
"""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from mamori.accounts.authz import require_admin
from mamori.domain.sovereignty import DataClass
from mamori.errors import InvalidRequestError
from mamori.policy.route import plan_route
from mamori.policy.sovereignty import decide
from mamori.settings import ClassificationName
from mamori.web.deps import ServicesDep, SessionDep
from mamori.web.policy_json import decision_json, policy_json
from mamori.web.responses import Json

ADMINS_ONLY = "only administrators may read the policy"

router = APIRouter(prefix="/api/admin/policy")


class Simulation(BaseModel):
    model: str = Field(min_length=1, max_length=200)
    # Unset: the user's groups' default label, else the installation's.
    classification: ClassificationName | None = None
    special_personal: bool = False
    # The endpoint routing would pick, to see whether the turn would be rerouted.
    endpoint: str | None = Field(default=None, max_length=100)
    user: str | None = Field(default=None, max_length=150)


@router.get("")
async def show_policy(session: SessionDep, services: ServicesDep) -> Json:
    require_admin(session.principal, ADMINS_ONLY)
    return Json(policy_json(services.policy, services.registry, session.lang))


@router.post("/explain")
async def explain(body: Simulation, session: SessionDep, services: ServicesDep) -> Json:
    require_admin(session.principal, ADMINS_ONLY)
    level = services.settings.default_classification
    if body.classification is not None:
        level = body.classification
    if body.user:
        principal = await services.accounts.principal_for_username(body.user)
        if principal is None:
            raise InvalidRequestError(f"no user named {body.user!r}", code="unknown_user")
        level = max(level, principal.classification_floor())  # as policy.classify does
    data = DataClass(level, body.special_personal)
    registry = services.registry
    if body.endpoint:
        decision = decide(services.policy, data, body.model, registry.endpoints(), body.endpoint)
    else:  # exactly as policy.route would now, with the endpoints' health and load
        decision = plan_route(
            body.model,
            data,
            registry.endpoints(),
            policy=services.policy,
            is_healthy=registry.is_healthy,
            in_flight=registry.in_flight,
        ).decision
    return Json(decision_json(services.policy, decision, session.lang))
