"""What auditors read through the workspace: for now, a turn's raw reasoning."""

from __future__ import annotations

from fastapi import APIRouter

from mamori.audit.reasoning_access import read_turn_reasoning
from mamori.web.deps import ServicesDep, SessionDep
from mamori.web.responses import Json

router = APIRouter(prefix="/api/audit")


@router.get("/turns/{turn_id}/reasoning")
async def turn_reasoning(turn_id: str, session: SessionDep, services: ServicesDep) -> Json:
    found = await read_turn_reasoning(services.db, session.principal, turn_id[:64])
    return Json(
        {
            "turn_id": found.turn_id,
            "model": found.model,
            "asked_by": found.username,
            "reasoning": found.reasoning,
        }
    )
