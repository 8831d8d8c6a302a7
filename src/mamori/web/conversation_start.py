"""Opening a conversation, for the chat page and for a use case alike: the label starts at the
person's default and never below their groups' floor, and only knowledge bases they may read
are attached."""

from __future__ import annotations

from collections.abc import Sequence

from mamori.domain.classification import Classification
from mamori.domain.conversation import Conversation
from mamori.domain.principal import Principal
from mamori.rag import access
from mamori.store.repos import conversations
from mamori.web.services import Services


async def start_conversation(
    services: Services,
    principal: Principal,
    *,
    title: str,
    model: str | None,
    classification: Classification | None,
    knowledge_bases: Sequence[str],
    use_case: str | None = None,
) -> Conversation:
    label = principal.default_classification(services.settings.default_classification)
    if classification is not None:
        # Chosen freely, but never below the groups' floor.
        label = max(classification, principal.classification_floor())
    chosen = await access.readable(services.db, principal, knowledge_bases)

    return await services.db.write(
        lambda conn: conversations.create_conversation(
            conn,
            user_id=principal.user_id,
            title=title,
            model=model,
            classification=label,
            use_case=use_case,
            knowledge_bases=[kb.id for kb in chosen],
        )
    )
