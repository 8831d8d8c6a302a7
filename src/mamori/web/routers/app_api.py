"""The workspace's JSON API: conversations and the streaming message endpoint (SSE)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Query
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel, Field

from mamori.audit.labels import change_label
from mamori.domain.chat import ReasoningEffort
from mamori.domain.reasoning import ReasoningDisplay
from mamori.errors import NotFoundError
from mamori.policy.reasoning import decide_display
from mamori.rag import access
from mamori.settings import ClassificationName
from mamori.store.repos import conversations
from mamori.web.chat_turns import (
    conversation_with_history,
    event_stream,
    new_turn,
    owned_conversation,
    turn_events,
)
from mamori.web.conversation_start import start_conversation
from mamori.web.deps import ServicesDep, SessionDep
from mamori.web.i18n import translate
from mamori.web.presenters import conversation_json, masked_history, message_json, model_json
from mamori.web.responses import Json

router = APIRouter(prefix="/api")

MAX_MESSAGE_CHARS = 100_000
MAX_ATTACHMENTS = 5


class NewConversation(BaseModel):
    title: str = Field(default="", max_length=200)
    model: str | None = Field(default=None, max_length=200)
    # 公開, 機密性1-3, public, c1-c3 or 0-3; unset: the person's groups' default.
    classification: ClassificationName | None = None
    # Ids or names of knowledge bases to answer from; each must be readable.
    knowledge_bases: list[str] = Field(default_factory=list, max_length=16)


class KnowledgeBaseChoice(BaseModel):
    knowledge_bases: list[str] = Field(max_length=16)


class NewLabel(BaseModel):
    classification: ClassificationName
    # Lowering a label opens what the conversation holds to more endpoints: ask first.
    confirm_lower: bool = False


class Rename(BaseModel):
    title: str = Field(min_length=1, max_length=200)


class NewMessage(BaseModel):
    content: str = Field(min_length=1, max_length=MAX_MESSAGE_CHARS)
    model: str = Field(min_length=1, max_length=200)
    reasoning_effort: ReasoningEffort | None = None
    # Files uploaded with POST /api/attachments for this question.
    attachments: list[str] = Field(default_factory=list, max_length=MAX_ATTACHMENTS)


@router.get("/models")
async def list_models(session: SessionDep, services: ServicesDep) -> Json:
    models = [
        model_json(m, services.registry, session.lang, services.policy)
        for m in services.registry.models()
    ]
    return Json({"models": models})


@router.get("/conversations")
async def list_conversations(
    session: SessionDep,
    services: ServicesDep,
    q: Annotated[str, Query(max_length=200)] = "",
) -> Json:
    """Most recent first; with ``q``, those whose title or messages contain it."""
    user_id = session.principal.user_id
    text = q.strip()
    if not text:
        rows = await services.db.read(lambda c: conversations.list_conversations(c, user_id))
    elif services.policy.masks_answers_for(session.principal):
        # Answers are masked for this person: searching their text would tell what the mask
        # hides, so only titles are searched.
        rows = [
            r
            for r in await services.db.read(lambda c: conversations.list_conversations(c, user_id))
            if text.lower() in r.title.lower()
        ]
    else:
        rows = await services.db.read(
            lambda c: conversations.search_conversations(c, user_id, text)
        )
    return Json({"conversations": [conversation_json(r) for r in rows]})


@router.post("/conversations", status_code=201)
async def create_conversation(
    body: Annotated[NewConversation, Body()], session: SessionDep, services: ServicesDep
) -> Json:
    created = await start_conversation(
        services,
        session.principal,
        title=body.title.strip() or translate(session.lang, "chat.untitled"),
        model=body.model,
        classification=body.classification,
        knowledge_bases=body.knowledge_bases,
    )
    return Json(conversation_json(created), status_code=201)


@router.put("/conversations/{conversation_id}/knowledge_bases")
async def choose_knowledge_bases(
    conversation_id: str, body: KnowledgeBaseChoice, session: SessionDep, services: ServicesDep
) -> Json:
    user_id = session.principal.user_id
    await owned_conversation(services, conversation_id, user_id)
    ids = [
        kb.id for kb in await access.readable(services.db, session.principal, body.knowledge_bases)
    ]
    await services.db.write(
        lambda c: conversations.set_knowledge_bases(c, conversation_id, user_id, ids)
    )
    return Json(conversation_json(await owned_conversation(services, conversation_id, user_id)))


@router.put("/conversations/{conversation_id}/classification")
async def set_label(
    conversation_id: str, body: NewLabel, session: SessionDep, services: ServicesDep
) -> Json:
    changed = await change_label(
        services.db,
        session.principal,
        conversation_id,
        body.classification,
        confirm_lower=body.confirm_lower,
    )
    return Json(conversation_json(changed))


@router.patch("/conversations/{conversation_id}")
async def rename_conversation(
    conversation_id: str, body: Rename, session: SessionDep, services: ServicesDep
) -> Json:
    user_id = session.principal.user_id
    title = body.title.strip()
    ok = await services.db.write(
        lambda c: conversations.rename_conversation(c, conversation_id, user_id, title)
    )
    if not ok:
        raise NotFoundError("conversation not found")
    return Json(conversation_json(await owned_conversation(services, conversation_id, user_id)))


@router.delete("/conversations/{conversation_id}", status_code=204)
async def delete_conversation(
    conversation_id: str, session: SessionDep, services: ServicesDep
) -> Response:
    user_id = session.principal.user_id
    ok = await services.db.write(
        lambda c: conversations.delete_conversation(c, conversation_id, user_id)
    )
    if not ok:
        raise NotFoundError("conversation not found")
    return Response(status_code=204)


@router.get("/conversations/{conversation_id}/messages")
async def list_messages(conversation_id: str, session: SessionDep, services: ServicesDep) -> Json:
    conversation, rows = await conversation_with_history(
        services, conversation_id, session.principal.user_id
    )
    settings = services.settings
    displays: dict[str | None, ReasoningDisplay] = {}
    for m in rows:
        if m.model not in displays:
            model = services.registry.model(m.model) if m.model else None
            displays[m.model] = decide_display(
                session.principal,
                model,
                settings.reasoning_display,
                summariser_available=settings.reasoning_summariser_model is not None,
            ).display
    if services.policy.masks_answers_for(session.principal):
        rows = masked_history(rows, services.detectors)
    return Json(
        {
            # The server's copy of the label too: the sidebar may not list this conversation.
            "conversation": conversation_json(conversation),
            "messages": [message_json(m, displays[m.model]) for m in rows],
        }
    )


@router.post("/conversations/{conversation_id}/messages")
async def send_message(
    conversation_id: str, body: NewMessage, session: SessionDep, services: ServicesDep
) -> StreamingResponse:
    conversation, history = await conversation_with_history(
        services, conversation_id, session.principal.user_id
    )
    turn = await new_turn(
        services,
        session.principal,
        conversation,
        model=body.model,
        reasoning_effort=body.reasoning_effort,
        history=history,
        question=body.content,
        attachment_ids=body.attachments,
    )
    return event_stream(turn_events(turn, services, session.lang))
