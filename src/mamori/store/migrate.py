"""Run the Alembic migrations shipped inside this package, without an alembic.ini.

``mamori serve`` calls :func:`upgrade` at startup, so an installed wheel must find its scripts
next to this module rather than in a project checkout.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import URL, Connection

from mamori.store.database import Database, write_transaction
from mamori.store.keyword import UNMANAGED_TABLES

MIGRATIONS_DIR = Path(__file__).parent / "migrations"

# Any constant works; it only has to be the same in every mamori process.
_PG_MIGRATION_LOCK = 0x6D616D6F7269  # "mamori"


def include_name(name: str | None, type_: str, _parents: object) -> bool:
    """Autogenerate's filter: the keyword index's backend-specific tables are not in
    ``tables.metadata`` and must not be proposed for dropping."""
    return not (type_ == "table" and name in UNMANAGED_TABLES)


def alembic_config() -> Config:
    cfg = Config()
    # ConfigParser interpolation would choke on a '%' in an install path.
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR).replace("%", "%%"))
    return cfg


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "the package ships at least one migration"
    return head


@contextmanager
def _database(target: str | URL | Database) -> Iterator[Database]:
    if isinstance(target, Database):
        yield target
        return
    db = Database(target)
    try:
        yield db
    finally:
        db.dispose()


@contextmanager
def migration_connection(db: Database) -> Iterator[Connection]:
    """A connection in a write transaction, safe for Alembic's batch (copy-and-move) mode."""
    with db.engine.connect() as conn:
        sqlite = conn.dialect.name == "sqlite"
        if sqlite:
            # Batch mode rebuilds a SQLite table by copying it and dropping the original; with
            # foreign keys on, that DROP would cascade-delete every child row (all messages of
            # all conversations). The pragma is ignored inside a transaction, so it is set on
            # the raw connection before SQLAlchemy begins one.
            _sqlite_foreign_keys(conn, on=False)
        try:
            with write_transaction(conn):
                if conn.dialect.name == "postgresql":
                    # Replicas starting together must not race to create the same tables; the
                    # lock is released at commit.
                    conn.exec_driver_sql(f"SELECT pg_advisory_xact_lock({_PG_MIGRATION_LOCK})")
                yield conn
                if sqlite and conn.exec_driver_sql("PRAGMA foreign_key_check").first():
                    raise RuntimeError("migration left rows violating foreign keys")
        finally:
            if sqlite:
                _sqlite_foreign_keys(conn, on=True)


def _sqlite_foreign_keys(conn: Connection, *, on: bool) -> None:
    raw: Any = conn.connection.driver_connection
    raw.execute(f"PRAGMA foreign_keys={'ON' if on else 'OFF'}")


def upgrade(target: str | URL | Database, revision: str = "head") -> None:
    """Bring the schema up to ``revision``. A no-op when it is already there."""
    cfg = alembic_config()
    with _database(target) as db, migration_connection(db) as conn:
        cfg.attributes["connection"] = conn
        command.upgrade(cfg, revision)


def current_revision(target: str | URL | Database) -> str | None:
    """The revision the database is at, or None for an empty database."""
    with _database(target) as db:
        return db.read_sync(lambda conn: MigrationContext.configure(conn).get_current_revision())
