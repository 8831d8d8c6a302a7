"""Usage rows and audit records."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from mamori.domain.audit import AuditRecord, TurnStatus
from mamori.domain.classification import Classification
from mamori.store import ConflictError, Database
from mamori.store.database import Connection
from mamori.store.repos import groups
from mamori.store.repos.audit import append_audit, count_audit, list_audit
from mamori.store.repos.usage import group_totals, list_usage, record_usage

JST = timezone(timedelta(hours=9))


def _record(turn_id: str, user_id: str, **kw: object) -> AuditRecord:
    base = AuditRecord(
        turn_id=turn_id,
        created_at=datetime(2025, 6, 1, 3, 0, tzinfo=UTC),
        user_id=user_id,
        username="山田",
        api_key_id=None,
        face="ui",
        action="chat",
        conversation_id="conv-1",
        model="gpt-oss-120b",
        endpoint="vllm-1",
        residency="onprem",
        classification=Classification.C2,
        reasoning_effort="medium",
        prompt_tokens=120,
        completion_tokens=45,
        usage_estimated=False,
        latency_ms=1800,
        ttft_ms=210,
        status=TurnStatus.OK,
        error_code=None,
    )
    return dataclasses.replace(base, **kw)  # type: ignore[arg-type]


async def test_usage_records_day_and_round_trips(
    db: Database, unique: Callable[[str], str]
) -> None:
    user_id = unique("u")
    late_evening_utc = datetime(2025, 6, 1, 23, 30, tzinfo=UTC)
    common = {
        "user_id": user_id,
        "api_key_id": None,
        "model": "gpt-oss-120b",
        "endpoint": "vllm-1",
        "prompt_tokens": 10,
        "completion_tokens": 5,
        "estimated": True,
        "at": late_evening_utc,
    }
    await db.write(lambda c: record_usage(c, turn_id="t1", **common))  # type: ignore[arg-type]
    local_day = late_evening_utc.astimezone(JST).date()
    await db.write(
        lambda c: record_usage(c, turn_id="t2", day=local_day, **common)  # type: ignore[arg-type]
    )
    rows = await db.read(list_usage, user_id=user_id)
    assert sorted((r.turn_id, r.day) for r in rows) == [
        ("t1", date(2025, 6, 1)),
        ("t2", date(2025, 6, 2)),
    ]
    assert rows[0].estimated is True
    assert rows[0].created_at == late_evening_utc


async def test_append_and_read_back(db: Database, unique: Callable[[str], str]) -> None:
    user_id = unique("u")
    first = _record(unique("turn"), user_id)
    second = _record(unique("turn"), user_id, status=TurnStatus.DENIED, endpoint=None, ttft_ms=None)
    seq1 = await db.write(append_audit, first)
    seq2 = await db.write(append_audit, second)
    assert seq2 > seq1
    assert await db.read(list_audit, user_id=user_id) == [(seq2, second), (seq1, first)]
    assert await db.read(list_audit, turn_id=first.turn_id) == [(seq1, first)]
    assert await db.read(list_audit, user_id=user_id, limit=1) == [(seq2, second)]
    assert await db.read(count_audit, first.turn_id) == 1


async def test_count_grows_with_each_append(db: Database, unique: Callable[[str], str]) -> None:
    before = await db.read(count_audit)
    await db.write(append_audit, _record(unique("turn"), unique("u")))
    assert await db.read(count_audit) == before + 1


async def test_one_record_per_turn(db: Database, unique: Callable[[str], str]) -> None:
    record = _record(unique("turn"), unique("u"))
    await db.write(append_audit, record)
    with pytest.raises(ConflictError):
        await db.write(append_audit, record)


async def test_group_totals_count_each_group_a_member_was_in(
    db: Database, unique: Callable[[str], str]
) -> None:
    tax = await db.write(groups.create_group, name=unique("tax"), display_name="税務課")
    welfare = await db.write(groups.create_group, name=unique("welfare"), display_name="福祉課")
    gone = unique("deleted-group")  # a group removed since: its usage stays, without a name
    user_id = unique("u")
    at = datetime(2019, 3, 14, 1, 0, tzinfo=UTC)
    turns = [((tax.id, welfare.id), 100, 10), ((tax.id,), 50, 5), ((gone,), 7, 1), ((), 1, 1)]
    for n, (group_ids, _, _) in enumerate(turns):

        def write(conn: Connection, n: int = n, g: tuple[str, ...] = group_ids) -> None:
            record_usage(
                conn,
                turn_id=unique(f"t{n}"),
                user_id=user_id,
                api_key_id=None,
                model="gpt-oss-120b",
                endpoint="vllm-1",
                prompt_tokens=turns[n][1],
                completion_tokens=turns[n][2],
                estimated=False,
                at=at,
                day=at.date(),
                group_ids=g,
            )

        await db.write(write)
    totals = await db.read(group_totals, date(2019, 3, 1), date(2019, 3, 31))
    ours = {tax.id, welfare.id, gone}
    found = {
        (t.name, t.requests, t.prompt_tokens, t.completion_tokens)
        for t in totals
        if t.group_id in ours
    }
    assert found == {(tax.name, 2, 150, 15), (welfare.name, 1, 100, 10), (None, 1, 7, 1)}
    april = await db.read(group_totals, date(2019, 4, 1), date(2019, 4, 30))
    assert not {t.group_id for t in april} & ours
