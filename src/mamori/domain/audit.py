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
