"""Conversations and their stored messages."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from mamori.domain.classification import Classification
from mamori.domain.documents import Citation


class MessageStatus(StrEnum):
    COMPLETE = "complete"
    INCOMPLETE = "incomplete"  # the stream stopped early: engine died or the user pressed stop
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class Conversation:
    id: str
    user_id: str
    title: str
    model: str | None
    classification: Classification
    created_at: datetime
    updated_at: datetime
    # Ids of the knowledge bases its turns answer from.
    knowledge_bases: tuple[str, ...] = ()
    # The use case it was started from, if any.
    use_case: str | None = None


@dataclass(frozen=True, slots=True)
class StoredMessage:
    id: str
    conversation_id: str
    turn_id: str
    role: str
    content: str
    reasoning: str | None
    status: MessageStatus
    model: str | None
    endpoint: str | None
    reasoning_effort: str | None
    error_code: str | None
    created_at: datetime
    reasoning_summary: str | None = None
    reasoning_ms: int | None = None
    reasoning_tokens: int | None = None
    # The sources an answer was given, in citation order.
    citations: tuple[Citation, ...] = ()
    # A question's attached files: (id, filename) each.
    attachments: tuple[tuple[str, str], ...] = ()
    # Who confirmed that a person reviewed this answer before it left the organisation.
    reviewed_by: str | None = None
    reviewed_at: datetime | None = None
