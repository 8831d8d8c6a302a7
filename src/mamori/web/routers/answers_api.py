"""What a person does with an answer already given: ask for it again (regenerate), and
confirm, before it leaves the organisation, that a person reviewed it."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi import APIRouter
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from mamori.audit.acts import append_act
from mamori.domain.chat import ReasoningEffort
from mamori.domain.conversation import MessageStatus, StoredMessage
from mamori.errors import InvalidRequestError, NotFoundError
from mamori.store.database import Connection
from mamori.store.repos import conversations, messages
from mamori.web.chat_turns import (
    conversation_with_history,
    event_stream,
    new_turn,
    turn_events,
)
from mamori.web.deps import ServicesDep, SessionDep
from mamori.web.responses import Json

router = APIRouter(prefix="/api/conversations/{conversation_id}")

ACTION_REVIEW = "answer.review"


class Regenerate(BaseModel):
    model: str = Field(min_length=1, max_length=200)
    reasoning_effort: ReasoningEffort | None = None


@router.post("/regenerate")
async def regenerate(
    conversation_id: str, body: Regenerate, session: SessionDep, services: ServicesDep
) -> StreamingResponse:
    """The last question, answered again (perhaps by another model). The new answer replaces
    the old one in the conversation once it has arrived; if it fails, the old one stays. Both
    turns are in the audit trail, the new one naming the one it replaced."""
    conversation, history = await conversation_with_history(
        services, conversation_id, session.principal.user_id
    )
    questions = [i for i, m in enumerate(history) if m.role == "user"]
    if not questions:
        raise InvalidRequestError("there is no question to answer again")
    last = history[questions[-1]]
    turn = await new_turn(
        services,
        session.principal,
        conversation,
        model=body.model,
        reasoning_effort=body.reasoning_effort,
        history=history[: questions[-1]],
        question=last.content,
        attachment_ids=[i for i, _ in last.attachments],
        replaces_turn=last.turn_id,
    )
    return event_stream(turn_events(turn, services, session.lang))


@router.post("/turns/{turn_id}/review")
async def review(
    conversation_id: str, turn_id: str, session: SessionDep, services: ServicesDep
) -> Json:
    """Records that the signed-in person reviewed this answer before it is used outside the
    organisation: on the answer, and as an audit record. The first confirmation stands."""
    principal = session.principal

    def write(conn: Connection) -> StoredMessage:
        found = conversations.get_conversation(conn, conversation_id, principal.user_id)
        if found is None:
            raise NotFoundError("conversation not found")
        answer = next(
            (
                m
                for m in messages.list_messages(conn, conversation_id)
                if m.turn_id == turn_id and m.role == "assistant"
            ),
            None,
        )
        if answer is None:
            raise NotFoundError("answer not found")
        if answer.status is not MessageStatus.COMPLETE:
            raise InvalidRequestError("only a complete answer can be marked as reviewed")
        if messages.mark_reviewed(conn, answer.id, principal.username, datetime.now(UTC)):
            append_act(
                conn,
                principal,
                ACTION_REVIEW,
                turn_id,
                conversation=conversation_id,
                model=answer.model or "",
                use_case=found.use_case or "",
            )
        reviewed = messages.get_message(conn, conversation_id, answer.id)
        assert reviewed is not None
        return reviewed

    reviewed = await services.db.write(write)
    return Json(
        {
            "turn_id": turn_id,
            "reviewed_by": reviewed.reviewed_by,
            "reviewed_at": reviewed.reviewed_at.isoformat() if reviewed.reviewed_at else None,
        }
    )
