"""Auditors reading a turn's raw chain of thought — itself a recorded act.

Raw reasoning is kept for every turn but shown to nobody by default; the auditor role is the
one way to read it afterwards. Each read appends its own audit record naming the turn read, in
the same transaction as the lookup, so there is no unrecorded read.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, datetime

from mamori.domain.audit import AuditRecord, TurnStatus
from mamori.domain.principal import Principal
from mamori.errors import ForbiddenError, NotFoundError
from mamori.store.database import Connection, Database
from mamori.store.repos import audit, messages, reasoning_store

ACTION = "reasoning.read"


@dataclass(frozen=True, slots=True)
class TurnReasoning:
    turn_id: str
    model: str
    username: str  # who asked the original question
    reasoning: str | None  # None: the model did not reason on that turn


async def read_turn_reasoning(db: Database, auditor: Principal, turn_id: str) -> TurnReasoning:
    if not auditor.is_auditor:
        raise ForbiddenError("only auditors may read raw reasoning")

    def read_and_record(conn: Connection) -> TurnReasoning:
        found = audit.list_audit(conn, limit=1, turn_id=turn_id)
        if not found:
            raise NotFoundError("no such turn")
        _, original = found[0]
        reasoning = messages.assistant_reasoning_for_turn(conn, turn_id)
        if reasoning is None:
            reasoning = reasoning_store.turn_reasoning_text(conn, turn_id)
        audit.append_audit(conn, _access_record(auditor, original))
        return TurnReasoning(turn_id, original.model, original.username, reasoning)

    return await db.write(read_and_record)


def _access_record(auditor: Principal, original: AuditRecord) -> AuditRecord:
    return AuditRecord(
        turn_id=uuid.uuid4().hex,
        created_at=datetime.now(UTC),
        user_id=auditor.user_id,
        username=auditor.username,
        api_key_id=auditor.api_key_id,
        face=auditor.face.value,
        action=ACTION,
        subject=original.turn_id,
        conversation_id=None,
        model=original.model,
        endpoint=None,
        residency=None,
        classification=original.classification,
        reasoning_effort=None,
        prompt_tokens=0,
        completion_tokens=0,
        usage_estimated=False,
        latency_ms=0,
        ttft_ms=None,
        status=TurnStatus.OK,
        error_code=None,
    )
