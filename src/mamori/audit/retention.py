"""How long the audit trail keeps what turns said, and the purge that ends it.

The record of a turn stays for good; its content (the request, the answer and the raw
reasoning) is kept beside it for a period set per classification, then replaced by nothing but
the hashes the chained record already holds. Every purge that removes something is itself a
record in the chain (``audit.purge``), so an auditor sees when content went and how much.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import orjson

from mamori.domain.audit import AuditContent, AuditRecord, TurnStatus
from mamori.domain.chat import ChatMessage
from mamori.domain.classification import Classification
from mamori.store.database import Connection, Database
from mamori.store.repos import audit, audit_content, conversations

log = logging.getLogger(__name__)

DEFAULT_DAYS: Mapping[Classification, int] = {
    Classification.PUBLIC: 365,
    Classification.C1: 365,
    Classification.C2: 180,
    Classification.C3: 90,
}
PURGE_ACTION = "audit.purge"
SYSTEM_USER = "system"


def prompt_text(messages: Sequence[ChatMessage]) -> str:
    """What was asked, as kept and hashed: the request's messages as JSON, reasoning left out
    (it is kept, and hashed, as the reasoning)."""
    encoded = []
    for message in messages:
        item: dict[str, object] = {"role": message.role, "content": message.content}
        if message.name:
            item["name"] = message.name
        if message.tool_call_id:
            item["tool_call_id"] = message.tool_call_id
        if message.tool_calls:
            item["tool_calls"] = [
                {"id": c.id, "name": c.name, "arguments": c.arguments} for c in message.tool_calls
            ]
        encoded.append(item)
    return orjson.dumps(encoded).decode()


@dataclass(frozen=True, slots=True)
class Retention:
    keep: bool = True
    days: Mapping[Classification, int] = field(default_factory=lambda: dict(DEFAULT_DAYS))

    def content(
        self,
        classification: Classification,
        now: datetime,
        *,
        prompt: str | None,
        answer: str | None,
        reasoning: str | None,
    ) -> AuditContent | None:
        """The content to keep for a turn of this class, or None when it is not kept."""
        days = self.days.get(classification, DEFAULT_DAYS[classification])
        if not self.keep or days <= 0:
            return None
        return AuditContent(prompt, answer, reasoning, expires_at=now + timedelta(days=days))


async def purge_expired(db: Database, now: datetime | None = None) -> int:
    """Drop the content whose retention has ended, and record that in the chain."""
    moment = now or datetime.now(UTC)

    def purge(conn: Connection) -> int:
        purged = audit_content.purge_expired(conn, moment)
        if purged:
            audit.append_audit(conn, _purge_record(moment, purged))
        return purged

    purged = await db.write(purge)
    if purged:
        log.info("purged the content of %d audit records past their retention", purged)
    return purged


def _purge_record(moment: datetime, purged: int) -> AuditRecord:
    return AuditRecord(
        turn_id=uuid.uuid4().hex,
        created_at=moment,
        user_id=SYSTEM_USER,
        username=SYSTEM_USER,
        api_key_id=None,
        face="system",
        action=PURGE_ACTION,
        subject=str(purged),
        conversation_id=None,
        model="",
        endpoint=None,
        residency=None,
        classification=Classification.PUBLIC,
        reasoning_effort=None,
        prompt_tokens=0,
        completion_tokens=0,
        usage_estimated=False,
        latency_ms=0,
        ttft_ms=None,
        status=TurnStatus.OK,
        error_code=None,
        decisions=orjson.dumps({"purged_records": purged, "before": moment.isoformat()}).decode(),
    )


async def purge_deleted_conversations(
    db: Database, retention: Retention, now: datetime | None = None
) -> int:
    """Remove conversations their owners deleted once their class's retention period has
    passed since the deletion; until then they are out of every list but not destroyed. A
    class kept for 0 days goes at the next purge."""
    moment = now or datetime.now(UTC)

    def purge(conn: Connection) -> int:
        removed = 0
        for level in Classification:
            days = retention.days.get(level, DEFAULT_DAYS[level])
            cutoff = moment - timedelta(days=max(days, 0))
            removed += conversations.purge_deleted(conn, cutoff, level)
        return removed

    removed = await db.write(purge)
    if removed:
        log.info("removed %d deleted conversations past their retention", removed)
    return removed


async def keep_purging(
    db: Database, retention: Retention | None = None, interval: float = 3600.0
) -> None:
    while True:
        try:
            await purge_expired(db)
            await purge_deleted_conversations(db, retention or Retention())
        except Exception:
            log.exception("could not purge expired audit content")
        await asyncio.sleep(interval)
