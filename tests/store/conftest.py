"""Store fixtures. The shared ``db`` lives for the whole session, so tests create their own
users and conversations with unique names instead of relying on empty tables."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path

import pytest

from mamori.domain.principal import Role
from mamori.store import Database, UserRow
from mamori.store.repos.users import create_user


def _unique(prefix: str) -> str:
    return f"{prefix}-{uuid.uuid4().hex[:12]}"


@pytest.fixture
def unique() -> Callable[[str], str]:
    """Names that no other test of the session uses."""
    return _unique


@pytest.fixture
def sqlite_path(tmp_path: Path) -> Path:
    """A fresh SQLite file in a directory that does not exist yet."""
    return tmp_path / "data" / "mamori.sqlite3"


@pytest.fixture
async def user(db: Database) -> UserRow:
    return await db.write(
        create_user, username=_unique("user"), password_hash="h", roles=[Role.USER]
    )
