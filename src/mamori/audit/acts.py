"""Audit records for acts other than a chat turn: reading raw reasoning, changing a label.

Such a record has no tokens, latency or endpoint; it names the actor, the act and what it
acted on, and sits in the same hash chain as every turn.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import UTC, datetime

import orjson

from mamori.domain.audit import AuditRecord, TurnStatus
from mamori.domain.classification import Classification
from mamori.domain.principal import Principal
from mamori.store.database import Connection
from mamori.store.repos import audit


def act_record(
    principal: Principal,
    action: str,
    *,
    subject: str,
    model: str,
    classification: Classification,
    conversation_id: str | None = None,
    label: Classification | None = None,
    details: Mapping[str, str] | None = None,
) -> AuditRecord:
    """``details``: what else an auditor needs to read the act (the roles given, a key's
    scope), kept as the record's decisions."""
    return AuditRecord(
        turn_id=uuid.uuid4().hex,
        created_at=datetime.now(UTC),
        user_id=principal.user_id,
        username=principal.username,
        api_key_id=principal.api_key_id,
        face=principal.face.value,
        action=action,
        subject=subject,
        conversation_id=conversation_id,
        model=model,
        endpoint=None,
        residency=None,
        classification=classification,
        label=label,
        reasoning_effort=None,
        prompt_tokens=0,
        completion_tokens=0,
        usage_estimated=False,
        latency_ms=0,
        ttft_ms=None,
        status=TurnStatus.OK,
        error_code=None,
        decisions=orjson.dumps(dict(details)).decode() if details else None,
    )


def append_act(
    conn: Connection, principal: Principal, action: str, subject: str, **details: str
) -> None:
    """An administrator's change (a use case saved, a user disabled, an endpoint added) as a
    record in the chain, in the caller's transaction: the change and its record commit
    together or not at all."""
    record = act_record(
        principal,
        action,
        subject=subject[:64],
        model="",
        classification=Classification.PUBLIC,
        details=details,
    )
    audit.append_audit(conn, record)
