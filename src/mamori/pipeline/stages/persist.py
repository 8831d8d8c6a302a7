"""Stage 7: persist + audit — the messages, the usage and exactly one audit record per turn.

All of it is written in one transaction, so a turn is either fully on record or not at all.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, tzinfo

import orjson

from mamori.audit.retention import Retention, prompt_text
from mamori.domain.audit import AuditRecord, TurnStatus
from mamori.domain.audit_chain import content_hash
from mamori.domain.chat import Usage
from mamori.domain.conversation import MessageStatus
from mamori.pipeline.turn import ChatTurn
from mamori.store.database import Connection, Database
from mamori.store.repos import audit, conversations, messages, reasoning_store, usage


class PersistStage:
    name = "persist+audit"

    def __init__(
        self, db: Database, *, zone: tzinfo = UTC, retention: Retention | None = None
    ) -> None:
        self.db = db
        self.zone = zone
        self.retention = retention or Retention()

    async def finish(self, turn: ChatTurn) -> None:
        tokens, estimated = usage_of(turn)
        now = datetime.now(UTC)
        prompt = prompt_text(turn.messages)
        answer, reasoning = turn.answer or None, turn.reasoning or None
        record = audit_record(turn, tokens, estimated, prompt=prompt)
        content = self.retention.content(
            turn.classification, now, prompt=prompt, answer=answer, reasoning=reasoning
        )

        def write(conn: Connection) -> None:
            kept = _keeps_messages(turn) and _conversation_still_there(conn, turn)
            if kept:
                _save_messages(conn, turn, now)
            elif turn.reasoning:
                # Raw reasoning is kept whatever happened to the conversation: API turns have
                # none, and a deleted one must not take the auditors' copy with it.
                reasoning_store.save_turn_reasoning(
                    conn,
                    turn_id=turn.id,
                    user_id=turn.principal.user_id,
                    model=turn.model,
                    reasoning=turn.reasoning,
                    call_ids=turn.tool_call_ids,
                    at=now,
                )
            # A request an engine answered is counted; one it never answered cost nothing.
            if turn.endpoint is not None and (turn.has_output or turn.usage is not None):
                usage.record_usage(
                    conn,
                    turn_id=turn.id,
                    user_id=turn.principal.user_id,
                    api_key_id=turn.principal.api_key_id,
                    model=turn.model,
                    endpoint=turn.endpoint.name,
                    prompt_tokens=tokens.prompt_tokens,
                    completion_tokens=tokens.completion_tokens,
                    estimated=estimated,
                    at=now,
                    day=now.astimezone(self.zone).date(),
                    group_ids=[g.id for g in turn.principal.groups],
                )
            audit.append_audit(conn, record, content)

        await self.db.write(write)


def _keeps_messages(turn: ChatTurn) -> bool:
    """Keep the exchange when something was answered, even partly.

    With nothing answered (an error, a refusal, a stop before the first token) the UI puts the
    text back into the composer; a stored question without an answer would only be sent again,
    twice, with the retry.
    """
    if turn.conversation_id is None:
        return False
    return turn.status is TurnStatus.OK or (
        turn.status in (TurnStatus.INCOMPLETE, TurnStatus.CANCELLED) and turn.has_output
    )


def _conversation_still_there(conn: Connection, turn: ChatTurn) -> bool:
    """The user may delete the conversation while its answer streams; the audit record of the
    turn must still be written, so the messages are skipped rather than failing the write."""
    assert turn.conversation_id is not None
    found = conversations.get_conversation(conn, turn.conversation_id, turn.principal.user_id)
    return found is not None


def _save_messages(conn: Connection, turn: ChatTurn, now: datetime) -> None:
    assert turn.conversation_id is not None
    endpoint = turn.endpoint.name if turn.endpoint else None
    if turn.replaces_turn is not None:
        messages.delete_turn(conn, turn.conversation_id, turn.replaces_turn)
    messages.add_message(
        conn,
        conversation_id=turn.conversation_id,
        turn_id=turn.id,
        role="user",
        content=turn.user_text,
        reasoning=None,
        status=MessageStatus.COMPLETE,
        model=None,
        endpoint=None,
        reasoning_effort=None,
        error_code=None,
        attachments=turn.attachments,
    )
    status = MessageStatus.COMPLETE if turn.status is TurnStatus.OK else MessageStatus.INCOMPLETE
    error_code = turn.error.code if turn.error else None
    if turn.status is TurnStatus.CANCELLED:
        error_code = "stopped_by_user"
    messages.add_message(
        conn,
        conversation_id=turn.conversation_id,
        turn_id=turn.id,
        role="assistant",
        content=turn.answer,
        reasoning=turn.reasoning or None,
        status=status,
        model=turn.model,
        endpoint=endpoint,
        reasoning_effort=turn.reasoning_effort,
        error_code=error_code,
        reasoning_summary=turn.reasoning_summary,
        reasoning_ms=turn.reasoning_ms,
        reasoning_tokens=turn.reasoning_tokens,
        citations=turn.citations,
    )
    conversations.touch_conversation(conn, turn.conversation_id, now, model=turn.model)
    # What the conversation now holds raises its label for good (never silently lowered):
    # the badge shows it, and the next turn starts from it.
    conversations.raise_classification(conn, turn.conversation_id, turn.classification)


def usage_of(turn: ChatTurn) -> tuple[Usage, bool]:
    """The engine's usage figures, or an estimate (and True) when it reported none."""
    reported = turn.usage
    if reported is not None and reported.total_tokens > 0:
        return reported, False
    prompt_bytes = sum(len(m.content.encode()) for m in turn.messages)
    # One streamed chunk is one token on every engine we speak to; bytes/3.5 sits between
    # Japanese (about one token per 3-byte character) and English (about four bytes a token).
    completion = turn.streamed_events or round(len((turn.answer + turn.reasoning).encode()) / 3.5)
    return Usage(prompt_tokens=round(prompt_bytes / 3.5), completion_tokens=completion), True


def decisions_json(turn: ChatTurn) -> str:
    """Every stage's decisions, in order, as the audit record keeps them."""
    return orjson.dumps(
        [
            {"stage": d.stage, "action": d.action, "rule_id": d.rule_id, **d.detail}
            for d in turn.decisions
        ]
    ).decode()


def findings_json(turn: ChatTurn) -> str | None:
    """Finding kinds and how often each was seen, never the values."""
    if not turn.findings:
        return None
    counts = Counter(f.kind for f in turn.findings)
    return orjson.dumps(dict(sorted(counts.items()))).decode()


def audit_record(
    turn: ChatTurn, tokens: Usage, estimated: bool, *, prompt: str | None = None
) -> AuditRecord:
    endpoint = turn.endpoint
    groups = ",".join(g.name for g in turn.principal.groups)
    return AuditRecord(
        turn_id=turn.id,
        created_at=turn.created_at,
        user_id=turn.principal.user_id,
        username=turn.principal.username,
        api_key_id=turn.principal.api_key_id,
        face=turn.principal.face.value,
        action="chat",
        conversation_id=turn.conversation_id,
        model=turn.model,
        endpoint=endpoint.name if endpoint else None,
        residency=endpoint.residency.value if endpoint else None,
        classification=turn.classification,
        label=turn.label,
        special_personal=turn.special_personal,
        policy_action=turn.policy.action.value if turn.policy else None,
        policy_rule=turn.policy.rule_id if turn.policy else None,
        decisions=decisions_json(turn),
        reasoning_effort=turn.reasoning_effort,
        prompt_tokens=tokens.prompt_tokens,
        completion_tokens=tokens.completion_tokens,
        usage_estimated=estimated,
        latency_ms=turn.latency_ms,
        ttft_ms=turn.ttft_ms,
        status=turn.status,
        error_code=turn.error.code if turn.error else None,
        groups=groups or None,
        findings=findings_json(turn),
        prompt_hash=content_hash(prompt if prompt is not None else prompt_text(turn.messages)),
        answer_hash=content_hash(turn.answer),
        reasoning_hash=content_hash(turn.reasoning),
    )
