"""Fixtures shared by the whole suite.

Databases: ``db_url`` is parametrised over SQLite and PostgreSQL, so every test that uses it (or
``db``) runs on both backends. PostgreSQL tests get a fresh schema in the ``test`` database,
dropped at the end of the session. Set MAMORI_TEST_PG_URL to use another server. Without a
reachable server the PostgreSQL half is skipped, except under CI=true, where it fails.
"""

from __future__ import annotations

import contextlib
import os
import secrets
from collections.abc import Iterator

import psycopg
import pytest

from mamori.store import Database, upgrade

PG_URL = os.environ.get("MAMORI_TEST_PG_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


@contextlib.contextmanager
def throwaway_pg_schema() -> Iterator[str]:
    """A PostgreSQL URL whose search_path is a new schema, dropped on exit."""
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


@pytest.fixture(scope="session")
def pg_schema_url() -> Iterator[str]:
    """The PostgreSQL schema of this test session."""
    with throwaway_pg_schema() as url:
        yield url


@pytest.fixture(scope="session", params=["sqlite", "postgresql"])
def private_db_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A database of its own on each backend, for a live server that must not see rows other
    tests write (it lists every endpoint in its database)."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('db') / 'private.sqlite3'}"
        return
    with throwaway_pg_schema() as url:
        yield url


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


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def fresh_db(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Database]:
    """A migrated database of the test module's own on each backend, for tests that depend on
    every row in a table (the keyword index's statistics count all chunks)."""
    with contextlib.ExitStack() as stack:
        if request.param == "sqlite":
            url = f"sqlite:///{tmp_path_factory.mktemp('fresh') / 'mamori.sqlite3'}"
        else:
            url = stack.enter_context(throwaway_pg_schema())
        database = Database(url)
        stack.callback(database.dispose)
        upgrade(database)
        yield database
