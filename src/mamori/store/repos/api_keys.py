"""API keys for the OpenAI-compatible face. Only hashes are stored; ``prefix`` identifies a key
in lists without revealing it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import orjson
from sqlalchemy import Connection, RowMapping, or_, select

from mamori.store.repos._common import new_id, utcnow
from mamori.store.repos.users import UserRow, row_to_user
from mamori.store.tables import api_keys, users


@dataclass(frozen=True, slots=True)
class ApiKeyRow:
    id: str
    user_id: str
    name: str
    key_hash: str = field(repr=False)
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None
    # The models it may use (None: all its owner may use), and when it stops working.
    models: tuple[str, ...] | None = None
    expires_at: datetime | None = None

    @property
    def active(self) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > utcnow())


def _row_to_key(row: RowMapping | dict[str, Any]) -> ApiKeyRow:
    return ApiKeyRow(
        id=row["id"],
        user_id=row["user_id"],
        name=row["name"],
        key_hash=row["key_hash"],
        prefix=row["prefix"],
        created_at=row["created_at"],
        last_used_at=row["last_used_at"],
        revoked_at=row["revoked_at"],
        models=tuple(orjson.loads(row["models"])) if row.get("models") else None,
        expires_at=row.get("expires_at"),
    )


def create_api_key(
    conn: Connection,
    *,
    user_id: str,
    name: str,
    key_hash: str,
    prefix: str,
    models: Sequence[str] | None = None,
    expires_at: datetime | None = None,
) -> ApiKeyRow:
    values: dict[str, Any] = {
        "id": new_id(),
        "user_id": user_id,
        "name": name,
        "key_hash": key_hash,
        "prefix": prefix,
        "created_at": utcnow(),
        "last_used_at": None,
        "revoked_at": None,
        "models": orjson.dumps(sorted(set(models))).decode() if models else None,
        "expires_at": expires_at,
    }
    conn.execute(api_keys.insert().values(**values))
    return _row_to_key(values)


def find_active_key(conn: Connection, key_hash: str) -> tuple[ApiKeyRow, UserRow] | None:
    """The key and its owner, unless the key is revoked or expired, or the owner disabled."""
    key_cols = [c.label(f"k_{c.name}") for c in api_keys.c]
    query = (
        select(users, *key_cols)
        .join(api_keys, api_keys.c.user_id == users.c.id)
        .where(
            api_keys.c.key_hash == key_hash,
            api_keys.c.revoked_at.is_(None),
            or_(api_keys.c.expires_at.is_(None), api_keys.c.expires_at > utcnow()),
            users.c.disabled.is_(False),
        )
    )
    row = conn.execute(query).mappings().first()
    if row is None:
        return None
    key = _row_to_key({c.name: row[f"k_{c.name}"] for c in api_keys.c})
    return key, row_to_user(row)


def list_api_keys(conn: Connection, user_id: str | None = None) -> list[ApiKeyRow]:
    query = select(api_keys).order_by(api_keys.c.created_at, api_keys.c.id)
    if user_id is not None:
        query = query.where(api_keys.c.user_id == user_id)
    return [_row_to_key(r) for r in conn.execute(query).mappings()]


def revoke_api_key(conn: Connection, key_id: str) -> bool:
    """True if an active key was revoked; revoking twice keeps the first revocation time."""
    result = conn.execute(
        api_keys.update()
        .where(api_keys.c.id == key_id, api_keys.c.revoked_at.is_(None))
        .values(revoked_at=utcnow())
    )
    return result.rowcount > 0


def touch_api_key(conn: Connection, key_id: str, now: datetime) -> None:
    conn.execute(api_keys.update().where(api_keys.c.id == key_id).values(last_used_at=now))
