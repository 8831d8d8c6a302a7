"""What every command-line subcommand needs: settings, a migrated database, and a way to run
async service calls with clean error messages."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

import click

from mamori.catalog import configured_endpoints
from mamori.domain.endpoint import Endpoint
from mamori.errors import MamoriError
from mamori.settings import Settings
from mamori.store import migrate
from mamori.store.database import Database
from mamori.store.repos import endpoints

T = TypeVar("T")


def _run(coro: Coroutine[Any, Any, T]) -> T:
    try:
        return asyncio.run(coro)
    except MamoriError as exc:
        raise click.ClickException(exc.message) from exc


def _settings() -> Settings:
    try:
        return Settings()
    except Exception as exc:  # pydantic's message names the bad field and value
        raise click.ClickException(f"invalid settings: {exc}") from exc


def _database(settings: Settings, *, upgrade: bool = True) -> Database:
    """The database, migrated unless ``upgrade`` is off (for commands that only look)."""
    from mamori.datadir import ensure_data_dir

    ensure_data_dir(settings.data_dir)
    db = Database(settings.resolved_database_url)
    if upgrade:
        migrate.upgrade(db)
    return db


def all_endpoints(settings: Settings, db: Database) -> list[Endpoint]:
    """mamori.toml's endpoints, then those `mamori endpoints add` stored (config wins a name)."""
    stored = db.read_sync(endpoints.list_endpoints)
    configured = configured_endpoints(settings)
    names = {e.name for e in configured}
    return [*configured, *(e for e in stored if e.name not in names)]
