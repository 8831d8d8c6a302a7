"""Alembic environment. ``mamori.store.migrate`` passes an open connection in
``config.attributes["connection"]``; the URL branch serves developers running ``alembic``
by hand to draft a new revision against a scratch database."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from mamori.store.database import Database
from mamori.store.migrate import include_name
from mamori.store.tables import metadata

config = context.config


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=metadata,
        # SQLite cannot ALTER most things; batch mode rebuilds the table instead.
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
        include_name=include_name,
    )
    with context.begin_transaction():
        context.run_migrations()


def _run() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        return
    url = config.get_main_option("sqlalchemy.url")
    if not url:
        raise RuntimeError("no connection given and no sqlalchemy.url configured")
    if context.is_offline_mode():
        context.configure(url=url, target_metadata=metadata, literal_binds=True)
        with context.begin_transaction():
            context.run_migrations()
        return
    db = Database(url)
    try:
        with db.engine.begin() as conn:
            _configure(conn)
    finally:
        db.dispose()


_run()
