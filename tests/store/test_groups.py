"""Groups and membership, on both databases."""

from __future__ import annotations

from collections.abc import Callable

from mamori.domain.reasoning import ReasoningDisplay
from mamori.store import Database, UserRow
from mamori.store.repos import groups, reasoning_store
from mamori.store.repos._common import utcnow
from mamori.store.repos.users import create_user


async def test_membership_and_policy(
    db: Database, user: UserRow, unique: Callable[[str], str]
) -> None:
    name = unique("dept")
    made = await db.write(
        groups.create_group, name=name, reasoning_display=ReasoningDisplay.SUMMARY
    )
    assert await db.write(groups.add_member, made.id, user.id)
    assert not await db.write(groups.add_member, made.id, user.id)  # already a member
    await db.write(
        groups.update_group_policy,
        made.id,
        reasoning_display=None,
        max_reasoning_effort="low",
    )
    [mine] = await db.read(groups.groups_of_user, user.id)
    assert (mine.name, mine.reasoning_display, mine.max_reasoning_effort) == (name, None, "low")
    assert await db.read(groups.member_names, made.id) == [user.username]
    assert await db.write(groups.remove_member, made.id, user.id)
    assert await db.read(groups.groups_of_user, user.id) == ()


async def test_tool_loop_reasoning_is_found_only_by_its_owner(
    db: Database, user: UserRow, unique: Callable[[str], str]
) -> None:
    other = await db.write(create_user, username=unique("other"), password_hash="h", roles=[])
    turn_id, call_id = unique("turn"), unique("call")
    await db.write(
        reasoning_store.save_turn_reasoning,
        turn_id=turn_id,
        user_id=user.id,
        model="gpt-oss-120b",
        reasoning="考え中",
        call_ids=[call_id, call_id],
        at=utcnow(),
    )
    assert await db.read(reasoning_store.reasoning_for_calls, user.id, [call_id]) == {
        call_id: "考え中"
    }
    assert await db.read(reasoning_store.reasoning_for_calls, other.id, [call_id]) == {}
    assert await db.read(reasoning_store.turn_reasoning_text, turn_id) == "考え中"
