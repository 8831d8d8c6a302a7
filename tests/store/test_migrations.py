from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Boolean, Column, Connection, inspect

from mamori.domain.classification import Classification
from mamori.store import Database, current_revision, head_revision, upgrade
from mamori.store.migrate import (
    MIGRATIONS_DIR,
    alembic_config,
    include_name,
    migration_connection,
)
from mamori.store.repos.conversations import create_conversation
from mamori.store.repos.messages import add_message, list_messages
from mamori.store.repos.users import create_user
from mamori.store.tables import metadata


def _diff(conn: Connection) -> list[object]:
    context = MigrationContext.configure(conn, opts={"include_name": include_name})
    return list(compare_metadata(context, metadata))


def test_migrated_schema_matches_tables(db: Database) -> None:
    assert db.read_sync(_diff) == []


def test_upgrade_is_idempotent(db: Database) -> None:
    upgrade(db)
    upgrade(db)
    assert current_revision(db) == head_revision() == "0006"
    assert db.read_sync(_diff) == []


def test_upgrade_from_a_url_on_an_empty_file(sqlite_path: Path) -> None:
    url = f"sqlite:///{sqlite_path}"
    assert current_revision(url) is None
    upgrade(url)
    assert current_revision(url) == head_revision()


def test_downgrade_to_base_removes_every_table(sqlite_path: Path) -> None:
    db = Database(f"sqlite:///{sqlite_path}")
    try:
        upgrade(db)
        cfg = alembic_config()
        with migration_connection(db) as conn:
            cfg.attributes["connection"] = conn
            command.downgrade(cfg, "base")
        assert db.read_sync(lambda c: inspect(c).get_table_names()) == ["alembic_version"]
    finally:
        db.dispose()


def test_migrations_ship_inside_the_package() -> None:
    # Installed wheels have no alembic.ini or project root: everything must sit in the package.
    assert (MIGRATIONS_DIR / "env.py").is_file()
    assert (MIGRATIONS_DIR / "script.py.mako").is_file()
    assert MIGRATIONS_DIR.parent.name == "store"


async def test_sqlite_batch_migration_keeps_child_rows(sqlite_path: Path) -> None:
    # What a future migration altering `conversations` would do on SQLite: copy the table and
    # drop the original. The drop must not cascade to messages.
    db = Database(f"sqlite:///{sqlite_path}")
    try:
        upgrade(db)
        owner = await db.write(create_user, username="u", password_hash="h", roles=[])
        conv = await db.write(
            create_conversation,
            user_id=owner.id,
            title="keep me",
            model=None,
            classification=Classification.PUBLIC,
        )
        await db.write(add_message, conversation_id=conv.id, turn_id="t", role="user", content="q")

        with migration_connection(db) as conn:
            ops = Operations(MigrationContext.configure(conn, opts={"render_as_batch": True}))
            with ops.batch_alter_table("conversations", recreate="always") as batch:
                batch.add_column(Column("pinned", Boolean, nullable=True))

        assert [m.content for m in await db.read(list_messages, conv.id)] == ["q"]
        assert await db.read(lambda c: c.exec_driver_sql("PRAGMA foreign_keys").scalar()) == 1
    finally:
        db.dispose()
