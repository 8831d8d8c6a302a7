"""Users: accounts that sign in to the workspace or own API keys."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, RowMapping, func, select

from mamori.domain.principal import Role
from mamori.store.repos._common import new_id, utcnow
from mamori.store.tables import users


@dataclass(frozen=True, slots=True)
class UserRow:
    id: str
    username: str
    display_name: str
    # Kept out of repr so that a logged row never carries the hash.
    password_hash: str = field(repr=False)
    roles: frozenset[Role]
    locale: str
    created_at: datetime
    disabled: bool


def encode_roles(roles: Iterable[Role]) -> str:
    return json.dumps(sorted(Role(r).value for r in roles))


def row_to_user(row: RowMapping | dict[str, Any]) -> UserRow:
    return UserRow(
        id=row["id"],
        username=row["username"],
        display_name=row["display_name"],
        password_hash=row["password_hash"],
        roles=frozenset(Role(r) for r in json.loads(row["roles"])),
        locale=row["locale"],
        created_at=row["created_at"],
        disabled=bool(row["disabled"]),
    )


def create_user(
    conn: Connection,
    *,
    username: str,
    password_hash: str,
    roles: Iterable[Role],
    display_name: str | None = None,
    locale: str = "ja",
) -> UserRow:
    """Raises ``ConflictError`` (through ``Database``) when the username is taken."""
    values = {
        "id": new_id(),
        "username": username,
        "display_name": display_name or username,
        "password_hash": password_hash,
        "roles": encode_roles(roles),
        "locale": locale,
        "created_at": utcnow(),
        "disabled": False,
    }
    conn.execute(users.insert().values(**values))
    return row_to_user(values)


def get_user(conn: Connection, user_id: str) -> UserRow | None:
    row = conn.execute(select(users).where(users.c.id == user_id)).mappings().first()
    return row_to_user(row) if row else None


def get_user_by_username(conn: Connection, username: str) -> UserRow | None:
    row = conn.execute(select(users).where(users.c.username == username)).mappings().first()
    return row_to_user(row) if row else None


def list_users(conn: Connection) -> list[UserRow]:
    rows = conn.execute(select(users).order_by(users.c.username)).mappings()
    return [row_to_user(r) for r in rows]


def count_users(conn: Connection) -> int:
    return conn.execute(select(func.count()).select_from(users)).scalar_one()


def set_password_hash(conn: Connection, user_id: str, password_hash: str) -> bool:
    result = conn.execute(
        users.update().where(users.c.id == user_id).values(password_hash=password_hash)
    )
    return result.rowcount > 0


def set_disabled(conn: Connection, user_id: str, disabled: bool) -> bool:
    result = conn.execute(users.update().where(users.c.id == user_id).values(disabled=disabled))
    return result.rowcount > 0


def set_roles(conn: Connection, user_id: str, roles: Iterable[Role]) -> bool:
    result = conn.execute(
        users.update().where(users.c.id == user_id).values(roles=encode_roles(roles))
    )
    return result.rowcount > 0
