"""A conversation's label (機密性): raised freely, lowered only on purpose, always on record.

A label guards everything the conversation already holds, so lowering it could open that
history to endpoints the policy kept it from. The person must confirm a lowering, and every
change appends an audit record naming the conversation, the old label and the new one, in the
same transaction as the change.
"""

from __future__ import annotations

from mamori.audit.acts import act_record
from mamori.domain.classification import Classification
from mamori.domain.conversation import Conversation
from mamori.domain.principal import Principal
from mamori.errors import InvalidRequestError, NotFoundError
from mamori.store.database import Connection, Database
from mamori.store.repos import audit, conversations

ACTION_RAISE = "label.raise"
ACTION_LOWER = "label.lower"


class LoweringUnconfirmedError(InvalidRequestError):
    code = "label_lowering_unconfirmed"
    http_status = 409


class BelowGroupFloorError(InvalidRequestError):
    code = "label_below_group_floor"


async def change_label(
    db: Database,
    principal: Principal,
    conversation_id: str,
    level: Classification,
    *,
    confirm_lower: bool,
) -> Conversation:
    def change(conn: Connection) -> Conversation:
        found = conversations.get_conversation(conn, conversation_id, principal.user_id)
        if found is None:
            raise NotFoundError("conversation not found")
        if level == found.classification:
            return found
        floor = principal.classification_floor()
        if level < floor:
            raise BelowGroupFloorError(
                f"{level.name} is below {floor.name}, the lowest label of the person's groups"
            )
        lowering = level < found.classification
        if lowering and not confirm_lower:
            raise LoweringUnconfirmedError(
                f"lowering the label from {found.classification.name} to {level.name} "
                "must be confirmed"
            )
        conversations.set_classification(conn, conversation_id, principal.user_id, level)
        action = ACTION_LOWER if lowering else ACTION_RAISE
        record = act_record(
            principal,
            action,
            subject=found.id,
            model=found.model or "",
            classification=level,
            conversation_id=found.id,
            label=found.classification,
        )
        audit.append_audit(conn, record)
        changed = conversations.get_conversation(conn, conversation_id, principal.user_id)
        assert changed is not None
        return changed

    return await db.write(change)
