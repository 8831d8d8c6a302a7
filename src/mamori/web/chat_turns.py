"""What both the message endpoint and regeneration need: the conversation as its owner sees
it, the history as the model should see it, and a turn's events as the workspace's stream."""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from contextlib import aclosing

from fastapi.responses import StreamingResponse

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
from mamori.domain.documents import Attachment
from mamori.domain.principal import Principal
from mamori.errors import NotFoundError, UnknownModelError
from mamori.pipeline.turn import ChatTurn
from mamori.rag.attachments import with_attachments
from mamori.store.database import Connection
from mamori.store.repos import attachments as attachment_repo
from mamori.store.repos import conversations, messages
from mamori.store.repos import knowledge_bases as kbs
from mamori.web.knowledge_json import citation_json
from mamori.web.policy_notice import error_text, policy_notice
from mamori.web.services import Services
from mamori.web.sse import app_event, usage_json

# The same answer for "not yours" and "does not exist": ids are not to be probed.
NOT_FOUND = "conversation not found"
RULE_REGENERATE = "chat.regenerate"


async def new_turn(
    services: Services,
    principal: Principal,
    conversation: Conversation,
    *,
    model: str,
    reasoning_effort: ReasoningEffort | None,
    history: list[StoredMessage],
    question: str,
    attachment_ids: Sequence[str] = (),
    replaces_turn: str | None = None,
) -> ChatTurn:
    """The next turn of ``conversation``: ``question`` after ``history``, with the files
    ``attachment_ids`` (the person's own, not yet sent elsewhere). ``replaces_turn``: the
    exchange this one is a new answer to, which it replaces once it has answered."""
    info = services.registry.model(model)
    if info is None:
        raise UnknownModelError(f"model {model!r} is not available")
    files, current = await _attachments(
        services,
        principal,
        conversation,
        attachment_ids,
        history_has_files=any(m.attachments for m in history),
    )
    # Chosen earlier; a knowledge base whose access was withdrawn since is left out.
    user_id = principal.user_id
    chosen = await services.db.read(
        lambda c: kbs.allowed_kb_ids(c, conversation.knowledge_bases, user_id=user_id)
    )
    turn = ChatTurn(
        principal=principal,
        model=model,
        messages=[
            *history_context(history, files),
            *with_attachments(current),
            ChatMessage(role="user", content=question),
        ],
        sampling=SamplingOptions(max_tokens=info.max_output_tokens),
        # The model's default and the group's cap are applied by the policy.reasoning stage.
        reasoning_effort=reasoning_effort,
        conversation_id=conversation.id,
        conversation_label=conversation.classification,
        knowledge_bases=tuple(i for i in conversation.knowledge_bases if i in chosen),
        replaces_turn=replaces_turn,
        attachments=tuple((f.id, f.filename) for f in current),
    )
    if replaces_turn is not None:
        turn.decide(RULE_REGENERATE, "replace", RULE_REGENERATE, replaces=replaces_turn)
    return turn


async def _attachments(
    services: Services,
    principal: Principal,
    conversation: Conversation,
    ids: Sequence[str],
    *,
    history_has_files: bool,
) -> tuple[dict[str, Attachment], list[Attachment]]:
    """The conversation's files by id, and those of this question, now bound to it. A file
    another conversation holds, or another person's, looks like one that does not exist."""

    def read(conn: Connection) -> tuple[dict[str, Attachment], list[Attachment]]:
        chosen = [
            a
            for a in attachment_repo.owned(conn, principal.user_id, ids)
            if a.conversation_id in (None, conversation.id)
        ]
        if len(chosen) != len(set(ids)):
            raise NotFoundError("attachment not found")
        attachment_repo.bind(conn, [a.id for a in chosen], conversation.id)
        return attachment_repo.of_conversation(conn, conversation.id), chosen

    if not ids:
        if not history_has_files:
            return {}, []  # most turns: nothing to read before the stream starts
        files = await services.db.read(
            lambda c: attachment_repo.of_conversation(c, conversation.id)
        )
        return files, []
    return await services.db.write(read)


def event_stream(events: AsyncIterator[bytes]) -> StreamingResponse:
    return StreamingResponse(
        events,
        media_type="text/event-stream",
        headers={"cache-control": "no-cache", "x-accel-buffering": "no"},
    )


async def turn_events(turn: ChatTurn, services: Services, lang: str) -> AsyncIterator[bytes]:
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
    yield app_event("done", {"status": status.value, "turn_id": turn.id})


def history_context(
    history: list[StoredMessage], files: dict[str, Attachment] | None = None
) -> list[ChatMessage]:
    """Earlier exchanges as the model should see them, each question after its attached
    files; failed answers are left out."""
    result: list[ChatMessage] = []
    for message in history:
        if message.status is MessageStatus.ERROR or message.role not in ("user", "assistant"):
            continue
        if message.role == "assistant" and not message.content:
            continue
        if message.role == "user" and message.attachments and files:
            result += with_attachments([files[i] for i, _ in message.attachments if i in files])
        role: Role = "user" if message.role == "user" else "assistant"
        result.append(ChatMessage(role=role, content=message.content, reasoning=message.reasoning))
    return result


async def owned_conversation(
    services: Services, conversation_id: str, user_id: str
) -> Conversation:
    found = await services.db.read(
        lambda c: conversations.get_conversation(c, conversation_id, user_id)
    )
    if found is None:
        raise NotFoundError(NOT_FOUND)
    return found


async def conversation_with_history(
    services: Services, conversation_id: str, user_id: str
) -> tuple[Conversation, list[StoredMessage]]:
    """The owner's conversation and its messages, in one read."""

    def read(conn: Connection) -> tuple[Conversation, list[StoredMessage]]:
        found = conversations.get_conversation(conn, conversation_id, user_id)
        if found is None:
            raise NotFoundError(NOT_FOUND)
        return found, messages.list_messages(conn, conversation_id)

    return await services.db.read(read)
