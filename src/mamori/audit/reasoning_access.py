"""Auditors reading a turn's raw chain of thought — itself a recorded act.

Raw reasoning is kept for every turn but shown to nobody by default; the auditor role is the
one way to read it afterwards. Each read appends its own audit record naming the turn read, in
the same transaction as the lookup, so there is no unrecorded read.
"""

from __future__ import annotations

from dataclasses import dataclass

from mamori.audit.acts import act_record
from mamori.domain.audit import AuditRecord
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
    return act_record(
        auditor,
        ACTION,
        subject=original.turn_id,
        model=original.model,
        classification=original.classification,
    )
