from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Boolean, Column, Connection, inspect

from mamori.domain.classification import Classification
from mamori.store import Database, current_revision, head_revision, keyword, upgrade
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
from tests.conftest import throwaway_pg_schema


def _diff(conn: Connection) -> list[object]:
    context = MigrationContext.configure(conn, opts={"include_name": include_name})
    return list(compare_metadata(context, metadata))


def test_migrated_schema_matches_tables(db: Database) -> None:
    assert db.read_sync(_diff) == []


def test_upgrade_is_idempotent(db: Database) -> None:
    upgrade(db)
    upgrade(db)
    assert current_revision(db) == head_revision() == "0008"
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


def _keyword_table_layout(conn: Connection) -> tuple[object, ...]:
    options: dict[str, list[str] | None] = dict(
        conn.exec_driver_sql(
            "SELECT relname, reloptions FROM pg_class "
            "WHERE relname IN ('kb_kw_postings', 'kb_kw_terms') "
            "AND relnamespace = current_schema()::regnamespace"
        ).all()
    )
    key = conn.exec_driver_sql(
        "SELECT indnatts, indnkeyatts FROM pg_index WHERE indexrelid = 'pk_kb_kw_terms'::regclass"
    ).one()
    return options["kb_kw_postings"], options["kb_kw_terms"], tuple(key)


def _updates(conn: Connection) -> tuple[int, int]:
    # Counted by this backend and not yet flushed: earlier transactions' may be included,
    # so callers take differences.
    row = conn.exec_driver_sql(
        "SELECT coalesce(sum(n_tup_upd), 0), coalesce(sum(n_tup_hot_upd), 0) "
        "FROM pg_stat_xact_user_tables WHERE relname IN ('kb_kw_postings', 'kb_kw_terms')"
    ).one()
    return int(row[0]), int(row[1])


def test_keyword_tables_leave_room_for_hot_updates_on_postgresql() -> None:
    with throwaway_pg_schema() as url:
        db = Database(url)
        try:
            upgrade(db)
            assert db.read_sync(_keyword_table_layout) == (
                ["fillfactor=50"],
                ["fillfactor=50"],
                (2, 2),  # df is no longer an INCLUDE column: updating it can stay HOT
            )

            # Two documents' chunks in one block: the second's appends and df updates are
            # written beside the rows they replace, with no new index entry.
            def index_twice(conn: Connection, kb: str, first: int) -> tuple[int, int]:
                before = _updates(conn)
                for chunk_id in (first, first + 1):
                    keyword.add(
                        conn,
                        [keyword.IndexEntry(chunk_id, kb, ["題"], [], ["規則", "申請"])],
                    )
                after = _updates(conn)
                return after[0] - before[0], after[1] - before[1]

            updated, hot = db.write_sync(index_twice, "kb", 1)
            assert updated == 6 and hot == updated

            cfg = alembic_config()
            with migration_connection(db) as conn:
                cfg.attributes["connection"] = conn
                command.downgrade(cfg, "0006")
            assert db.read_sync(_keyword_table_layout) == (None, None, (3, 2))
            updated, hot = db.write_sync(index_twice, "other", 3)
            assert updated == 6 and hot == 3  # only the postings' appends
        finally:
            db.dispose()
