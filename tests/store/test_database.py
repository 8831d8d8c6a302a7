from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import Connection, select

from mamori.domain.classification import Classification
from mamori.domain.principal import Role
from mamori.store import ConflictError, Database, UserRow, upgrade
from mamori.store.repos.conversations import create_conversation, get_conversation
from mamori.store.repos.messages import add_message, list_messages
from mamori.store.repos.users import create_user, get_user_by_username
from mamori.store.tables import messages

JST = timezone(timedelta(hours=9))


def _pragmas(conn: Connection) -> dict[str, object]:
    return {
        name: conn.exec_driver_sql(f"PRAGMA {name}").scalar()
        for name in ("journal_mode", "busy_timeout", "foreign_keys", "synchronous")
    }


async def test_sqlite_pragmas_are_set_on_every_connection(sqlite_path: Path) -> None:
    db = Database(f"sqlite:///{sqlite_path}")
    try:
        assert sqlite_path.parent.is_dir()  # created on demand
        expected = {
            "journal_mode": "wal",
            "busy_timeout": 5000,
            "foreign_keys": 1,
            "synchronous": 1,
        }
        assert db.read_sync(_pragmas) == expected
        assert await db.read(_pragmas) == expected
        # The writer's connections, which open transactions differently, are configured too.
        assert (await db.write(lambda c: c.exec_driver_sql("PRAGMA busy_timeout").scalar())) == 5000
    finally:
        db.dispose()


async def test_writes_run_on_one_dedicated_thread(db: Database) -> None:
    names = await asyncio.gather(
        *(db.write(lambda _c: threading.current_thread().name) for _ in range(20))
    )
    assert len(set(names)) == 1
    assert names[0].startswith("mamori-db-write")
    assert threading.current_thread().name not in names


async def test_dialect_name_and_ping(db: Database, db_url: str) -> None:
    assert db.dialect_name == db_url.split(":")[0].split("+")[0]
    assert await db.ping()


async def test_ping_is_false_when_unreachable() -> None:
    db = Database("postgresql://nobody@127.0.0.1:1/none?connect_timeout=2")
    try:
        assert db.url.drivername == "postgresql+psycopg"
        assert not await db.ping()
    finally:
        db.dispose()


async def test_failed_write_rolls_back(db: Database, unique: Callable[[str], str]) -> None:
    name = unique("rollback")

    def create_then_fail(conn: Connection) -> None:
        create_user(conn, username=name, password_hash="h", roles=[])
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError):
        await db.write(create_then_fail)
    assert await db.read(get_user_by_username, name) is None


async def test_constraint_violation_becomes_conflict_error(db: Database, user: UserRow) -> None:
    with pytest.raises(ConflictError) as info:
        await db.write(create_user, username=user.username, password_hash="x", roles=[])
    assert info.value.code == "conflict"
    assert info.value.http_status == 409


async def test_many_concurrent_writes_all_land(db: Database, user: UserRow) -> None:
    conv = await db.write(
        create_conversation,
        user_id=user.id,
        title="load",
        model=None,
        classification=Classification.PUBLIC,
    )

    async def one(i: int) -> None:
        await db.write(
            add_message, conversation_id=conv.id, turn_id=f"t{i}", role="user", content=str(i)
        )

    # Reads interleaved with the writes must neither block them nor fail.
    reads = [db.read(list_messages, conv.id) for _ in range(20)]
    await asyncio.gather(*(one(i) for i in range(200)), *reads)
    stored = await db.read(list_messages, conv.id)
    assert sorted(int(m.content) for m in stored) == list(range(200))
    query = select(messages.c.seq).where(messages.c.conversation_id == conv.id)
    seqs = await db.read(lambda c: sorted(c.execute(query).scalars()))
    assert seqs == list(range(1, 201))


async def test_two_sqlite_writers_on_one_file_do_not_lock(sqlite_path: Path) -> None:
    # Two Database objects stand in for two processes (server and CLI) sharing the file. Each
    # add_message reads the last seq and then inserts: with a deferred BEGIN, the loser of that
    # race fails at once with "database is locked" instead of waiting for busy_timeout.
    url = f"sqlite:///{sqlite_path}"
    upgrade(url)
    first, second = Database(url), Database(url)
    try:
        owner = await first.write(create_user, username="u", password_hash="h", roles=[Role.USER])
        conv = await first.write(
            create_conversation,
            user_id=owner.id,
            title="shared",
            model=None,
            classification=Classification.PUBLIC,
        )

        async def add(db: Database, i: int) -> None:
            await db.write(
                add_message, conversation_id=conv.id, turn_id="t", role="user", content=str(i)
            )

        await asyncio.gather(*(add(first if i % 2 else second, i) for i in range(200)))
        assert len(await second.read(list_messages, conv.id)) == 200
    finally:
        first.dispose()
        second.dispose()


async def test_in_memory_sqlite_works_from_async_code() -> None:
    db = Database("sqlite://")
    try:
        upgrade(db)
        await db.write(create_user, username="mem", password_hash="h", roles=[])
        assert (await db.read(get_user_by_username, "mem")) is not None
    finally:
        db.dispose()


async def test_timestamps_round_trip_as_aware_utc(db: Database, user: UserRow) -> None:
    at = datetime(2025, 4, 1, 9, 30, 15, 123456, tzinfo=JST)
    conv = await db.write(
        create_conversation,
        user_id=user.id,
        title="tz",
        model=None,
        classification=Classification.C2,
        now=at,
    )
    loaded = await db.read(get_conversation, conv.id, user.id)
    assert loaded is not None
    assert loaded.created_at == at
    assert loaded.created_at.tzinfo is not None
    assert loaded.created_at.utcoffset() == timedelta(0)
    assert loaded.created_at == datetime(2025, 4, 1, 0, 30, 15, 123456, tzinfo=UTC)
    assert user.created_at.tzinfo is not None


async def test_naive_datetimes_are_refused(db: Database, user: UserRow) -> None:
    with pytest.raises(Exception, match="naive datetime"):
        await db.write(
            create_conversation,
            user_id=user.id,
            title="naive",
            model=None,
            classification=Classification.PUBLIC,
            now=datetime(2025, 1, 1),  # naive on purpose
        )
