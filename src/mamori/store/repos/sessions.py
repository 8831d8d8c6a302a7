"""Browser sessions. Only a hash of the cookie token is stored, so a leaked table opens nothing."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, select

from mamori.store.repos._common import utcnow
from mamori.store.repos.users import UserRow, row_to_user
from mamori.store.tables import sessions, users


def create_session(
    conn: Connection, *, token_hash: str, user_id: str, expires_at: datetime
) -> None:
    conn.execute(
        sessions.insert().values(
            token_hash=token_hash, user_id=user_id, created_at=utcnow(), expires_at=expires_at
        )
    )


def get_session_user(conn: Connection, token_hash: str, now: datetime) -> UserRow | None:
    """The session's user, or None when the session is unknown, expired, or its user disabled."""
    query = (
        select(users)
        .join(sessions, sessions.c.user_id == users.c.id)
        .where(
            sessions.c.token_hash == token_hash,
            sessions.c.expires_at > now,
            users.c.disabled.is_(False),
        )
    )
    row = conn.execute(query).mappings().first()
    return row_to_user(row) if row else None


def delete_session(conn: Connection, token_hash: str) -> bool:
    result = conn.execute(sessions.delete().where(sessions.c.token_hash == token_hash))
    return result.rowcount > 0


def delete_user_sessions(conn: Connection, user_id: str) -> int:
    """Sign a user out everywhere, e.g. after a password change."""
    return conn.execute(sessions.delete().where(sessions.c.user_id == user_id)).rowcount


def purge_expired(conn: Connection, now: datetime) -> int:
    return conn.execute(sessions.delete().where(sessions.c.expires_at <= now)).rowcount
