"""Fixtures shared by the whole suite.

Databases: ``db_url`` is parametrised over SQLite and PostgreSQL, so every test that uses it (or
``db``) runs on both backends. PostgreSQL tests get a fresh schema in the ``test`` database,
dropped at the end of the session. Set MAMORI_TEST_PG_URL to use another server. Without a
reachable server the PostgreSQL half is skipped, except under CI=true, where it fails.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator

import psycopg
import pytest

from mamori.store import Database, upgrade

PG_URL = os.environ.get("MAMORI_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@pytest.fixture(scope="session")
def pg_schema_url() -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a throwaway schema of this test session."""
    conninfo = PG_URL.replace("postgresql+psycopg://", "postgresql://", 1)
    try:
        admin = psycopg.connect(conninfo, autocommit=True, connect_timeout=3)
    except psycopg.Error as exc:
        reason = f"PostgreSQL unreachable at {conninfo}: {exc}".strip()
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    schema = f"mamori_test_{secrets.token_hex(4)}"
    with admin:
        admin.execute(f'CREATE SCHEMA "{schema}"')
        try:
            yield f"{PG_URL}?options=-csearch_path%3D{schema}"
        finally:
            admin.execute(f'DROP SCHEMA "{schema}" CASCADE')


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('db') / 'mamori.sqlite3'}"
    url: str = request.getfixturevalue("pg_schema_url")
    return url


@pytest.fixture(scope="session")
def db(db_url: str) -> Iterator[Database]:
    """A migrated database, shared by the session: tests stay apart through unique ids."""
    database = Database(db_url)
    upgrade(database)
    yield database
    database.dispose()
