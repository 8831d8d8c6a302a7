"""Users, sessions and API keys."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from mamori.domain.principal import Role
from mamori.store import ConflictError, Database, UserRow
from mamori.store.repos import api_keys, sessions, users

NOW = datetime(2030, 1, 1, tzinfo=UTC)


async def test_create_and_find_users(db: Database, unique: Callable[[str], str]) -> None:
    before = await db.read(users.count_users)
    name = unique("alice")
    created = await db.write(
        users.create_user,
        username=name,
        password_hash="argon2-hash",
        roles=[Role.ADMIN, Role.USER],
        display_name="アリス",
    )
    assert created.roles == {Role.ADMIN, Role.USER}
    assert created.locale == "ja"
    assert not created.disabled
    assert "argon2-hash" not in repr(created)
    assert await db.read(users.get_user, created.id) == created
    assert await db.read(users.get_user_by_username, name) == created
    assert await db.read(users.count_users) == before + 1
    assert created in await db.read(users.list_users)
    assert await db.read(users.get_user, "missing") is None


async def test_display_name_defaults_to_username(db: Database, user: UserRow) -> None:
    assert user.display_name == user.username


async def test_update_password_roles_and_disabled(db: Database, user: UserRow) -> None:
    assert await db.write(users.set_password_hash, user.id, "new-hash")
    assert await db.write(users.set_roles, user.id, [Role.AUDITOR])
    assert await db.write(users.set_disabled, user.id, True)
    loaded = await db.read(users.get_user, user.id)
    assert loaded is not None
    assert (loaded.password_hash, loaded.roles, loaded.disabled) == (
        "new-hash",
        frozenset({Role.AUDITOR}),
        True,
    )
    assert not await db.write(users.set_password_hash, "missing", "x")


async def test_usernames_are_unique(db: Database, user: UserRow) -> None:
    with pytest.raises(ConflictError):
        await db.write(users.create_user, username=user.username, password_hash="h", roles=[])


async def test_session_returns_its_user_until_expiry(
    db: Database, user: UserRow, unique: Callable[[str], str]
) -> None:
    token = unique("tok")
    await db.write(sessions.create_session, token_hash=token, user_id=user.id, expires_at=NOW)
    assert await db.read(sessions.get_session_user, token, NOW - timedelta(seconds=1)) == user
    assert await db.read(sessions.get_session_user, token, NOW) is None
    assert await db.read(sessions.get_session_user, "unknown", NOW - timedelta(days=1)) is None


async def test_session_of_disabled_user_is_refused(
    db: Database, user: UserRow, unique: Callable[[str], str]
) -> None:
    token = unique("tok")
    await db.write(sessions.create_session, token_hash=token, user_id=user.id, expires_at=NOW)
    await db.write(users.set_disabled, user.id, True)
    assert await db.read(sessions.get_session_user, token, NOW - timedelta(days=1)) is None


async def test_delete_and_purge_sessions(
    db: Database, user: UserRow, unique: Callable[[str], str]
) -> None:
    old, fresh, other = unique("old"), unique("fresh"), unique("other")
    early = datetime(2000, 1, 1, tzinfo=UTC)  # earlier than every other test's sessions
    await db.write(sessions.create_session, token_hash=old, user_id=user.id, expires_at=early)
    await db.write(sessions.create_session, token_hash=fresh, user_id=user.id, expires_at=NOW)
    await db.write(sessions.create_session, token_hash=other, user_id=user.id, expires_at=NOW)

    assert await db.write(sessions.purge_expired, early) >= 1
    assert await db.read(sessions.get_session_user, fresh, early) == user
    assert await db.write(sessions.delete_session, fresh)
    assert not await db.write(sessions.delete_session, fresh)
    assert await db.write(sessions.delete_user_sessions, user.id) == 1


async def test_active_key_is_found_with_its_owner(
    db: Database, user: UserRow, unique: Callable[[str], str]
) -> None:
    key_hash = unique("hash")
    key = await db.write(
        api_keys.create_api_key, user_id=user.id, name="ci", key_hash=key_hash, prefix="mk-ab12"
    )
    assert key.active
    assert key_hash not in repr(key)
    assert await db.read(api_keys.find_active_key, key_hash) == (key, user)
    assert await db.read(api_keys.list_api_keys, user.id) == [key]
    assert key in await db.read(api_keys.list_api_keys)

    await db.write(api_keys.touch_api_key, key.id, NOW)
    found = await db.read(api_keys.find_active_key, key_hash)
    assert found is not None
    assert found[0].last_used_at == NOW


async def test_revoked_key_is_not_found(
    db: Database, user: UserRow, unique: Callable[[str], str]
) -> None:
    key_hash = unique("hash")
    key = await db.write(
        api_keys.create_api_key, user_id=user.id, name="old", key_hash=key_hash, prefix="mk-x"
    )
    assert await db.write(api_keys.revoke_api_key, key.id)
    assert not await db.write(api_keys.revoke_api_key, key.id)
    assert await db.read(api_keys.find_active_key, key_hash) is None
    [listed] = await db.read(api_keys.list_api_keys, user.id)
    assert listed.revoked_at is not None
    assert not listed.active


async def test_key_of_disabled_user_is_not_found(
    db: Database, user: UserRow, unique: Callable[[str], str]
) -> None:
    key_hash = unique("hash")
    await db.write(
        api_keys.create_api_key, user_id=user.id, name="k", key_hash=key_hash, prefix="mk-y"
    )
    await db.write(users.set_disabled, user.id, True)
    assert await db.read(api_keys.find_active_key, key_hash) is None


async def test_key_hashes_are_unique(
    db: Database, user: UserRow, unique: Callable[[str], str]
) -> None:
    key_hash = unique("hash")
    await db.write(
        api_keys.create_api_key, user_id=user.id, name="a", key_hash=key_hash, prefix="p"
    )
    with pytest.raises(ConflictError):
        await db.write(
            api_keys.create_api_key, user_id=user.id, name="b", key_hash=key_hash, prefix="p"
        )


async def test_unknown_user_is_refused_by_foreign_key(
    db: Database, unique: Callable[[str], str]
) -> None:
    with pytest.raises(ConflictError):
        await db.write(
            sessions.create_session, token_hash=unique("t"), user_id="nobody", expires_at=NOW
        )
