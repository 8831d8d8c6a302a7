"""Deleted conversations are kept for their class's retention period after the deletion, then
removed with their messages; a higher class may have a shorter period than a lower one."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

import pytest

from mamori.audit.retention import Retention, purge_deleted_conversations
from mamori.domain.classification import Classification
from mamori.domain.principal import Role
from mamori.store import Database
from mamori.store.database import Connection
from mamori.store.repos.conversations import create_conversation, delete_conversation
from mamori.store.repos.messages import add_message, list_messages
from mamori.store.repos.users import create_user

pytestmark = pytest.mark.asyncio(loop_scope="session")

DELETED = datetime(2026, 11, 1, tzinfo=UTC)
RETENTION = Retention(days={Classification.C1: 30, Classification.C3: 7})


async def deleted_conversation(db: Database, level: Classification) -> str:
    def write(c: Connection) -> str:
        name = f"r-{uuid.uuid4().hex[:8]}"
        user = create_user(c, username=name, password_hash="x", roles=[Role.USER])
        conv = create_conversation(c, user_id=user.id, title="t", model=None, classification=level)
        add_message(c, conversation_id=conv.id, turn_id="t", role="user", content="q")
        delete_conversation(c, conv.id, user.id, DELETED)
        return conv.id

    return await db.write(write)


async def test_each_class_is_kept_for_its_own_period_after_deletion(db: Database) -> None:
    c1 = await deleted_conversation(db, Classification.C1)
    c3 = await deleted_conversation(db, Classification.C3)
    await purge_deleted_conversations(db, RETENTION, DELETED + timedelta(days=6))
    assert await db.read(list_messages, c3) and await db.read(list_messages, c1)
    await purge_deleted_conversations(db, RETENTION, DELETED + timedelta(days=8))
    assert await db.read(list_messages, c3) == []  # 機密性3: 7 days
    assert await db.read(list_messages, c1)  # 機密性1: 30 days
    await purge_deleted_conversations(db, RETENTION, DELETED + timedelta(days=31))
    assert await db.read(list_messages, c1) == []
