"""Account operations over a real database, on SQLite and PostgreSQL."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from mamori.accounts.credentials import hash_token
from mamori.accounts.service import AccountService
from mamori.domain.principal import Face, Role
from mamori.store.database import Database
from mamori.store.repos import sessions

PASSWORD = "a-long-enough-password"


async def test_sessions_expire_and_are_purged(db: Database) -> None:
    accounts = AccountService(db)
    user = await accounts.create_user(f"s-{uuid.uuid4().hex[:8]}", PASSWORD, [])
    live_token = await accounts.start_session(user)
    principal = await accounts.session_principal(live_token)
    assert principal is not None and principal.face is Face.UI
    past = datetime.now(UTC) - timedelta(minutes=1)
    await db.write(
        lambda c: sessions.create_session(
            c, token_hash=hash_token("old"), user_id=user.id, expires_at=past
        )
    )
    assert await accounts.session_principal("old") is None
    assert await accounts.purge_expired_sessions() >= 1
    assert await accounts.session_principal(live_token) is not None


async def test_passwords_and_api_keys(db: Database) -> None:
    accounts = AccountService(db)
    name = f"k-{uuid.uuid4().hex[:8]}"
    await accounts.create_user(name, PASSWORD, [Role.ADMIN])
    assert await accounts.authenticate_password(name, PASSWORD) is not None
    assert await accounts.authenticate_password(name, PASSWORD + "x") is None
    assert await accounts.authenticate_password("nobody-" + name, PASSWORD) is None
    key = await accounts.create_api_key(name, "test")
    principal = await accounts.api_key_principal(key.plaintext)
    assert principal is not None and principal.is_admin and principal.face is Face.API
    assert await accounts.api_key_principal(key.plaintext + "x") is None
