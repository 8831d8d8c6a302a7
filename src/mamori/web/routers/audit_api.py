"""What auditors read through the workspace: the trail's records and their content, a turn's
raw reasoning, the chain's state, and exports (mamori.audit.inspection does the work).

Read-only by design: no route here, or anywhere, edits or deletes an audit record.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import IO, Any

from fastapi import APIRouter
from fastapi.responses import StreamingResponse

from mamori.audit.inspection import (
    DayRange,
    chain_status,
    classification_of,
    export_trail,
    plain,
    read_content,
    record_detail,
    require_auditor,
    status_of,
)
from mamori.audit.reasoning_access import read_turn_reasoning
from mamori.domain.audit import AuditRecord
from mamori.store.repos.audit import AuditQuery, search_audit
from mamori.web.deps import ServicesDep, SessionDep
from mamori.web.responses import Json

router = APIRouter(prefix="/api/audit")

MAX_PAGE = 200
LIST_FIELDS = (
    "created_at",
    "username",
    "groups",
    "face",
    "action",
    "model",
    "endpoint",
    "residency",
    "classification",
    "policy_action",
    "policy_rule",
    "status",
    "error_code",
    "prompt_tokens",
    "completion_tokens",
    "latency_ms",
)


def _summary(seq: int, record: AuditRecord) -> dict[str, Any]:
    return {"seq": seq, **{name: plain(getattr(record, name)) for name in LIST_FIELDS}}


@router.get("/records")
async def list_records(
    session: SessionDep,
    services: ServicesDep,
    user: str | None = None,
    group: str | None = None,
    since: str | None = None,
    until: str | None = None,
    model: str | None = None,
    decision: str | None = None,
    classification: int | None = None,
    status: str | None = None,
    action: str | None = None,
    before: int | None = None,
    limit: int = 50,
) -> Json:
    """Newest first; ``next_before`` pages on to older records."""
    require_auditor(session.principal)
    days = DayRange.parse(since, until, services.settings.zone)
    query = AuditQuery(
        username=user or None,
        group=group or None,
        since=days.since,
        until=days.until,
        model=model or None,
        decision=decision or None,
        classification=classification_of(classification),
        status=status_of(status),
        action=action or None,
        before_seq=before,
    )
    size = max(1, min(limit, MAX_PAGE))
    found = await services.db.read(lambda c: search_audit(c, query, limit=size + 1))
    page = found[:size]
    next_before = page[-1][0] if len(found) > size else None
    return Json({"records": [_summary(s, r) for s, r in page], "next_before": next_before})


@router.get("/records/{seq}")
async def show_record(seq: int, session: SessionDep, services: ServicesDep) -> Json:
    require_auditor(session.principal)
    return Json(await services.db.read(lambda c: record_detail(c, seq)))


@router.get("/records/{seq}/content")
async def record_content(seq: int, session: SessionDep, services: ServicesDep) -> Json:
    return Json(await read_content(services.db, session.principal, seq))


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


@router.get("/chain")
async def show_chain(session: SessionDep, services: ServicesDep) -> Json:
    require_auditor(session.principal)
    key_id = services.checkpointer.signer.key_id
    return Json(await services.db.read(lambda c: chain_status(c, key_id)))


@router.post("/chain/verify")
async def verify_chain_now(session: SessionDep, services: ServicesDep) -> Json:
    require_auditor(session.principal)
    check = await services.checkpointer.verify_all()
    last = check.last_checkpoint
    return Json(
        {
            "checked": check.checked,
            "checkpoints": check.checkpoints,
            "ok": check.ok,
            "first_bad": check.first_bad,
            "problem": check.problem or None,
            "last_checkpoint": None
            if last is None
            else {"seq": last.seq, "created_at": last.created_at, "key_id": last.key_id},
        }
    )


@router.get("/export")
async def export(
    session: SessionDep,
    services: ServicesDep,
    since: str | None = None,
    until: str | None = None,
    format: str = "jsonl",
    content: bool = False,
) -> StreamingResponse:
    days = DayRange.parse(since, until, services.settings.zone)
    keys = list(services.checkpointer.keys.values())
    found = await export_trail(
        services.db, session.principal, days, format=format, keys=keys, with_content=content
    )
    return StreamingResponse(
        _chunks(found.body),
        media_type=found.media_type,
        headers={
            "Content-Disposition": f'attachment; filename="{found.filename}"',
            "X-Mamori-Records": str(found.records),
        },
    )


def _chunks(body: IO[bytes], size: int = 64 * 1024) -> Iterator[bytes]:
    with body:
        while chunk := body.read(size):
            yield chunk
