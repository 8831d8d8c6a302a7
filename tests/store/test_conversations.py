"""Conversations and their messages."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection

from mamori.domain.classification import Classification
from mamori.domain.conversation import Conversation, MessageStatus
from mamori.domain.principal import Role
from mamori.store import Database, UserRow
from mamori.store.repos.conversations import (
    create_conversation,
    delete_conversation,
    get_conversation,
    list_conversations,
    purge_deleted,
    rename_conversation,
    touch_conversation,
)
from mamori.store.repos.messages import add_message, list_messages
from mamori.store.repos.users import create_user
from mamori.store.tables import users

T0 = datetime(2025, 6, 1, 12, 0, tzinfo=UTC)


async def _conversation(
    db: Database, user: UserRow, title: str = "t", **kw: object
) -> Conversation:
    return await db.write(
        create_conversation,
        user_id=user.id,
        title=title,
        model="gpt-oss-120b",
        classification=Classification.C1,
        **kw,  # type: ignore[arg-type]
    )


async def _other_user(db: Database, user: UserRow) -> UserRow:
    return await db.write(
        create_user, username=f"{user.username}-other", password_hash="h", roles=[Role.USER]
    )


async def test_create_and_get(db: Database, user: UserRow) -> None:
    conv = await _conversation(db, user, "予算の相談")
    assert conv.classification is Classification.C1
    assert await db.read(get_conversation, conv.id, user.id) == conv


async def test_other_users_cannot_see_rename_or_delete(db: Database, user: UserRow) -> None:
    conv = await _conversation(db, user)
    other = await _other_user(db, user)
    assert await db.read(get_conversation, conv.id, other.id) is None
    assert not await db.write(rename_conversation, conv.id, other.id, "stolen")
    assert not await db.write(delete_conversation, conv.id, other.id)
    assert await db.read(list_conversations, other.id) == []
    assert await db.read(get_conversation, conv.id, user.id) == conv


async def test_list_is_most_recently_updated_first(db: Database, user: UserRow) -> None:
    a = await _conversation(db, user, "a", now=T0)
    b = await _conversation(db, user, "b", now=T0 + timedelta(minutes=1))
    c = await _conversation(db, user, "c", now=T0 + timedelta(minutes=2))
    await db.write(touch_conversation, a.id, T0 + timedelta(minutes=3), model="other-model")
    listed = await db.read(list_conversations, user.id)
    assert [x.id for x in listed] == [a.id, c.id, b.id]
    assert listed[0].model == "other-model"
    assert listed[0].updated_at == T0 + timedelta(minutes=3)
    assert [x.id for x in await db.read(list_conversations, user.id, 1)] == [a.id]


async def test_rename_keeps_position(db: Database, user: UserRow) -> None:
    conv = await _conversation(db, user, "old", now=T0)
    assert await db.write(rename_conversation, conv.id, user.id, "new")
    loaded = await db.read(get_conversation, conv.id, user.id)
    assert loaded is not None
    assert (loaded.title, loaded.updated_at) == ("new", T0)


async def test_messages_come_back_in_seq_order(db: Database, user: UserRow) -> None:
    conv = await _conversation(db, user)
    for i, role in enumerate(["user", "assistant", "user", "assistant"]):
        await db.write(
            add_message,
            conversation_id=conv.id,
            turn_id=f"turn-{i // 2}",
            role=role,
            content=f"m{i}",
            # Out-of-order clocks must not reorder a conversation: seq decides.
            now=T0 - timedelta(minutes=i),
        )
    assert [m.content for m in await db.read(list_messages, conv.id)] == ["m0", "m1", "m2", "m3"]


async def test_message_fields_round_trip(db: Database, user: UserRow) -> None:
    conv = await _conversation(db, user)
    stored = await db.write(
        add_message,
        conversation_id=conv.id,
        turn_id="turn-x",
        role="assistant",
        content="途中まで",
        reasoning="考え中",
        status=MessageStatus.INCOMPLETE,
        model="gpt-oss-120b",
        endpoint="vllm-1",
        reasoning_effort="high",
        error_code="engine_stream_broken",
    )
    assert await db.read(list_messages, conv.id) == [stored]
    assert stored.status is MessageStatus.INCOMPLETE


async def test_delete_hides_at_once_and_the_purge_removes_it_with_its_messages(
    db: Database, user: UserRow
) -> None:
    conv = await _conversation(db, user)

    def add_two(c: Connection) -> None:
        add_message(c, conversation_id=conv.id, turn_id="t", role="user", content="q")
        add_message(c, conversation_id=conv.id, turn_id="t", role="assistant", content="a")

    await db.write(add_two)
    deleted_at = datetime(2026, 12, 1, tzinfo=UTC)
    assert await db.write(delete_conversation, conv.id, user.id, deleted_at)
    assert await db.read(get_conversation, conv.id, user.id) is None
    assert conv.id not in {c.id for c in await db.read(list_conversations, user.id)}
    assert not await db.write(rename_conversation, conv.id, user.id, "again")
    assert not await db.write(delete_conversation, conv.id, user.id)
    # Kept until its retention ends: the messages are still there.
    assert len(await db.read(list_messages, conv.id)) == 2
    level = conv.classification
    assert await db.write(purge_deleted, deleted_at, level) == 0  # not before the cut-off
    assert await db.write(purge_deleted, deleted_at + timedelta(seconds=1), level) >= 1
    assert await db.read(list_messages, conv.id) == []


async def test_deleting_a_user_cascades_to_conversations(db: Database, user: UserRow) -> None:
    conv = await _conversation(db, user)
    await db.write(add_message, conversation_id=conv.id, turn_id="t", role="user", content="q")
    await db.write(lambda c: c.execute(users.delete().where(users.c.id == user.id)))
    assert await db.read(get_conversation, conv.id, user.id) is None
    assert await db.read(list_messages, conv.id) == []
