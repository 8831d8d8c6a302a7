"""The workspace's JSON API: conversations and the streaming message endpoint (SSE)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import aclosing
from typing import Annotated

from fastapi import APIRouter, Body
from fastapi.responses import Response, StreamingResponse
from pydantic import BaseModel, Field

from mamori.audit.labels import change_label
from mamori.domain.chat import (
    ChatMessage,
    ContentDelta,
    ErrorEvent,
    ReasoningDelta,
    ReasoningEffort,
    ReasoningProgress,
    ReasoningSummary,
    Role,
    SamplingOptions,
    Usage,
)
from mamori.domain.conversation import Conversation, MessageStatus, StoredMessage
from mamori.domain.reasoning import ReasoningDisplay
from mamori.errors import NotFoundError, UnknownModelError
from mamori.pipeline.turn import ChatTurn
from mamori.policy.reasoning import decide_display
from mamori.rag import access
from mamori.settings import ClassificationName
from mamori.store.repos import conversations, messages
from mamori.store.repos import knowledge_bases as kbs
from mamori.web.conversation_start import start_conversation
from mamori.web.deps import ServicesDep, SessionDep
from mamori.web.i18n import translate
from mamori.web.knowledge_json import citation_json
from mamori.web.policy_notice import error_text, policy_notice
from mamori.web.presenters import conversation_json, masked_history, message_json, model_json
from mamori.web.responses import Json
from mamori.web.sse import app_event, usage_json

router = APIRouter(prefix="/api")

MAX_MESSAGE_CHARS = 100_000


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


@router.get("/models")
async def list_models(session: SessionDep, services: ServicesDep) -> Json:
    models = [
        model_json(m, services.registry, session.lang, services.policy)
        for m in services.registry.models()
    ]
    return Json({"models": models})


@router.get("/conversations")
async def list_conversations(session: SessionDep, services: ServicesDep) -> Json:
    user_id = session.principal.user_id
    rows = await services.db.read(lambda c: conversations.list_conversations(c, user_id))
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
    await _owned(services, conversation_id, user_id)
    ids = [
        kb.id for kb in await access.readable(services.db, session.principal, body.knowledge_bases)
    ]
    await services.db.write(
        lambda c: conversations.set_knowledge_bases(c, conversation_id, user_id, ids)
    )
    return Json(conversation_json(await _owned(services, conversation_id, user_id)))


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
    return Json(conversation_json(await _owned(services, conversation_id, user_id)))


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
    conversation = await _owned(services, conversation_id, session.principal.user_id)
    rows = await services.db.read(lambda c: messages.list_messages(c, conversation_id))
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
    conversation = await _owned(services, conversation_id, session.principal.user_id)
    model = services.registry.model(body.model)
    if model is None:
        raise UnknownModelError(f"model {body.model!r} is not available")
    history = await services.db.read(lambda c: messages.list_messages(c, conversation_id))
    # Chosen earlier; a knowledge base whose access was withdrawn since is left out.
    user_id = session.principal.user_id
    chosen = await services.db.read(
        lambda c: kbs.allowed_kb_ids(c, conversation.knowledge_bases, user_id=user_id)
    )
    turn = ChatTurn(
        principal=session.principal,
        model=body.model,
        messages=[*_context(history), ChatMessage(role="user", content=body.content)],
        sampling=SamplingOptions(max_tokens=model.max_output_tokens),
        # The model's default and the group's cap are applied by the policy.reasoning stage.
        reasoning_effort=body.reasoning_effort,
        conversation_id=conversation.id,
        conversation_label=conversation.classification,
        knowledge_bases=tuple(i for i in conversation.knowledge_bases if i in chosen),
    )
    return StreamingResponse(
        _events(turn, services, session.lang),
        media_type="text/event-stream",
        headers={"cache-control": "no-cache", "x-accel-buffering": "no"},
    )


async def _events(turn: ChatTurn, services: ServicesDep, lang: str) -> AsyncIterator[bytes]:
    meta_sent = False
    async with aclosing(services.pipeline.run(turn)) as events:
        async for event in events:
            if not meta_sent and turn.endpoint is not None:
                meta_sent = True
                yield app_event(
                    "meta",
                    {
                        "turn_id": turn.id,
                        "model": turn.model,
                        "endpoint": turn.endpoint.name,
                        "residency": turn.endpoint.residency.value,
                        "classification": int(turn.classification),
                        "special_personal": turn.special_personal,
                        "policy": policy_notice(turn, lang),
                    },
                )
            match event:
                case ContentDelta(text=text):
                    yield app_event("content", {"t": text})
                case ReasoningDelta(text=text):
                    yield app_event("reasoning", {"t": text})
                case ReasoningProgress():
                    yield app_event(
                        "reasoning_status",
                        {"ms": event.elapsed_ms, "tokens": event.tokens, "done": event.done},
                    )
                case ReasoningSummary(text=text):
                    yield app_event("reasoning_summary", {"t": text})
                case Usage():
                    yield app_event("usage", usage_json(event))
                case ErrorEvent(code=code):
                    yield app_event(
                        "error",
                        {
                            "code": code,
                            "message": error_text(turn, code, lang),
                            "partial_saved": not event.before_first_byte,
                            "policy": policy_notice(turn, lang),
                        },
                    )
    if turn.citations:
        yield app_event("citations", {"citations": [citation_json(c) for c in turn.citations]})
    # The pipeline's finish stages have run by now: the turn is saved and audited.
    status = {
        "ok": MessageStatus.COMPLETE,
        "incomplete": MessageStatus.INCOMPLETE,
        "cancelled": MessageStatus.INCOMPLETE,
    }.get(turn.status.value, MessageStatus.ERROR)
    yield app_event("done", {"status": status.value, "turn_id": turn.id, "message_id": None})


def _context(history: list[StoredMessage]) -> list[ChatMessage]:
    """Earlier exchanges as the model should see them; failed answers are left out."""
    result: list[ChatMessage] = []
    for message in history:
        if message.status is MessageStatus.ERROR or message.role not in ("user", "assistant"):
            continue
        if message.role == "assistant" and not message.content:
            continue
        role: Role = "user" if message.role == "user" else "assistant"
        result.append(ChatMessage(role=role, content=message.content, reasoning=message.reasoning))
    return result


async def _owned(services: ServicesDep, conversation_id: str, user_id: str) -> Conversation:
    found = await services.db.read(
        lambda c: conversations.get_conversation(c, conversation_id, user_id)
    )
    if found is None:
        # The same answer for "not yours" and "does not exist": ids are not to be probed.
        raise NotFoundError("conversation not found")
    return found
