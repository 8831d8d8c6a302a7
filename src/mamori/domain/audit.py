"""The audit record of one chat turn."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from mamori.domain.classification import Classification


class TurnStatus(StrEnum):
    OK = "ok"
    INCOMPLETE = "incomplete"  # some answer streamed, then the engine failed
    CANCELLED = "cancelled"  # the client went away or pressed stop
    ERROR = "error"  # nothing was answered
    DENIED = "denied"  # refused by policy before any upstream call
    QUOTA = "quota_exceeded"  # refused by a quota or rate limit before any upstream call


@dataclass(frozen=True, slots=True)
class AuditRecord:
    turn_id: str
    created_at: datetime
    user_id: str
    username: str
    api_key_id: str | None
    face: str
    action: str
    conversation_id: str | None
    model: str
    endpoint: str | None
    residency: str | None
    classification: Classification
    reasoning_effort: str | None
    prompt_tokens: int
    completion_tokens: int
    usage_estimated: bool
    latency_ms: int
    ttft_ms: int | None
    status: TurnStatus
    error_code: str | None
    # What an action other than a chat acted on, e.g. the turn whose reasoning was read.
    subject: str | None = None
    # The label the turn carried before detection; ``classification`` is what it was after.
    label: Classification | None = None
    special_personal: bool = False
    # The sovereignty policy's decision (allow, reroute, mask_then_allow, deny) and its rule.
    policy_action: str | None = None
    policy_rule: str | None = None
    # Every stage's decisions as JSON: stage, action, rule id and the inputs, refused
    # endpoints included.
    decisions: str | None = None
    # The actor's groups (names, comma-separated) when the act happened: reports and searches
    # by department must not change when somebody moves to another one.
    groups: str | None = None
    # What the detectors found, as JSON {kind: count}; never the values.
    findings: str | None = None
    # SHA-256 of what was asked (the request's messages, canonically encoded), of the answer as
    # shown and of the raw reasoning. The content itself, when kept, lives in ``audit_content``
    # with its own retention; these hashes stay in the chain after it is purged.
    prompt_hash: str | None = None
    answer_hash: str | None = None
    reasoning_hash: str | None = None


@dataclass(frozen=True, slots=True)
class AuditContent:
    """What a turn said, kept beside its record until ``expires_at`` (None: no end)."""

    prompt: str | None
    answer: str | None
    reasoning: str | None
    expires_at: datetime | None = None
