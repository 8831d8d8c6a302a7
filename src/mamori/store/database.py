"""The engine and the two doors into it: a small reader pool and one writer thread.

SQLite allows one writer at a time. Funnelling every write of this process through a single
thread (the Datasette pattern) means writers queue in Python instead of fighting over the file
lock, so "database is locked" cannot happen between our own writes; ``busy_timeout`` and
``BEGIN IMMEDIATE`` cover the remaining case of a second process (the CLI next to the server).
PostgreSQL does not need the single writer, but using the same path keeps behaviour identical on
both backends, which is what the storage tests check.
"""

from __future__ import annotations

import asyncio
import contextvars
import functools
import sqlite3
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, TypeVar

from sqlalchemy import URL, Connection, Engine, create_engine, event, make_url
from sqlalchemy.exc import IntegrityError, SQLAlchemyError
from sqlalchemy.pool import StaticPool

# Re-exported so other packages can type repository callbacks without importing SQLAlchemy.
__all__ = ["Connection", "Database", "write_transaction"]

from mamori.store.errors import ConflictError

P = ParamSpec("P")
T = TypeVar("T")

# Connection execution option that tells the SQLite "begin" hook which kind of transaction to open.
_BEGIN_MODE = "mamori_sqlite_begin"
_SQLITE_BUSY_TIMEOUT_MS = 5000


def normalise_url(url: str | URL) -> URL:
    """Accept the URLs operators write by hand and pick the driver mamori ships with."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def _is_memory(url: URL) -> bool:
    return url.database in (None, "", ":memory:")


def _install_sqlite_hooks(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_conn: sqlite3.Connection, _record: Any) -> None:
        # Take transaction control away from the sqlite3 module, which would otherwise start
        # transactions lazily at the first DML and so let a read-then-write transaction fail
        # with SQLITE_BUSY when it upgrades its lock. The "begin" hook below opens them instead.
        dbapi_conn.isolation_level = None
        cursor = dbapi_conn.cursor()
        try:
            cursor.execute("PRAGMA journal_mode=WAL")  # readers never block the writer
            cursor.execute(f"PRAGMA busy_timeout={_SQLITE_BUSY_TIMEOUT_MS}")
            cursor.execute("PRAGMA foreign_keys=ON")  # off by default; cascades rely on it
            # Safe in WAL mode: a power cut may lose the last commits but never corrupts.
            cursor.execute("PRAGMA synchronous=NORMAL")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        mode = conn.get_execution_options().get(_BEGIN_MODE, "DEFERRED")
        conn.exec_driver_sql(f"BEGIN {mode}")


class Database:
    """One database, reached from async code without blocking the event loop."""

    def __init__(self, url: str | URL, *, read_workers: int = 4) -> None:
        self.url = normalise_url(url)
        self.engine = self._create_engine(self.url)
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mamori-db-write")
        if self.dialect_name == "sqlite" and _is_memory(self.url):
            # An in-memory database is a single shared connection: only one thread may use it.
            self._readers = self._writer
        else:
            self._readers = ThreadPoolExecutor(
                max_workers=read_workers, thread_name_prefix="mamori-db-read"
            )

    @staticmethod
    def _create_engine(url: URL) -> Engine:
        if url.get_backend_name() != "sqlite":
            # Pre-ping: a PostgreSQL restart must not surface as one failed request per pooled
            # connection.
            return create_engine(url, pool_pre_ping=True)
        if _is_memory(url):
            engine = create_engine(
                url, poolclass=StaticPool, connect_args={"check_same_thread": False}
            )
        else:
            assert url.database is not None
            if not url.database.startswith("file:"):
                Path(url.database).expanduser().parent.mkdir(parents=True, exist_ok=True)
            # Connections are handed between pool threads; each is used by one thread at a time.
            engine = create_engine(url, connect_args={"check_same_thread": False})
        _install_sqlite_hooks(engine)
        return engine

    @property
    def dialect_name(self) -> str:
        return self.engine.dialect.name

    # --- synchronous (CLI, migrations, tests) --------------------------------------------------

    def read_sync(
        self, fn: Callable[Concatenate[Connection, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """Run ``fn`` on a connection whose transaction is rolled back afterwards."""
        with _translated_errors(), self.engine.connect() as conn:
            return fn(conn, *args, **kwargs)

    def write_sync(
        self, fn: Callable[Concatenate[Connection, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        """Run ``fn`` in one transaction, committed if it returns and rolled back if it raises."""
        with _translated_errors(), self.engine.connect() as conn, write_transaction(conn):
            return fn(conn, *args, **kwargs)

    # --- asynchronous ---------------------------------------------------------------------------

    async def read(
        self, fn: Callable[Concatenate[Connection, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        return await self._submit(self._readers, self.read_sync, fn, *args, **kwargs)

    async def write(
        self, fn: Callable[Concatenate[Connection, P], T], *args: P.args, **kwargs: P.kwargs
    ) -> T:
        return await self._submit(self._writer, self.write_sync, fn, *args, **kwargs)

    async def ping(self) -> bool:
        try:
            return await self.read(lambda c: c.exec_driver_sql("SELECT 1").scalar() == 1)
        except (SQLAlchemyError, OSError):
            return False

    def dispose(self) -> None:
        """Wait for queued work, then close every pooled connection."""
        self._writer.shutdown(wait=True)
        self._readers.shutdown(wait=True)
        self.engine.dispose()

    @staticmethod
    async def _submit(
        executor: ThreadPoolExecutor,
        runner: Callable[..., T],
        fn: Callable[..., T],
        *args: Any,
        **kwargs: Any,
    ) -> T:
        # Copy the context so request-scoped context variables (log fields) reach the thread.
        ctx = contextvars.copy_context()
        call = functools.partial(ctx.run, runner, fn, *args, **kwargs)
        return await asyncio.get_running_loop().run_in_executor(executor, call)


@contextmanager
def write_transaction(conn: Connection) -> Iterator[Connection]:
    """A transaction meant to write. On SQLite it takes the write lock at BEGIN (IMMEDIATE), so
    a competing process makes it wait for busy_timeout rather than fail half-way through."""
    conn.execution_options(**{_BEGIN_MODE: "IMMEDIATE"})
    with conn.begin():
        yield conn


@contextmanager
def _translated_errors() -> Iterator[None]:
    """Turn constraint violations into a mamori error: callers must not import SQLAlchemy."""
    try:
        yield
    except IntegrityError as exc:
        raise ConflictError(str(exc.orig if exc.orig is not None else exc)) from exc
