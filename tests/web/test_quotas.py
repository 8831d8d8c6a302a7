"""Quotas: a user or group over its limit is refused before any upstream request, told when
the limit resets, and the refusal is audited like every other turn."""

from __future__ import annotations

import asyncio

import httpx

from mamori.domain.audit import TurnStatus
from mamori.store.repos import groups, quotas
from tests.web.conftest import MODEL, Live


def _ask(key: str) -> dict[str, object]:
    return {
        "headers": {"authorization": f"Bearer {key}"},
        "json": {"model": MODEL, "messages": [{"role": "user", "content": "こんにちは"}]},
    }


async def _wait_for_cache(live: Live) -> None:
    # The quota stage rereads limits at most every few seconds; make the new ones visible now.
    for stage in live.services.pipeline.prepare_stages:
        if stage.name == "quota":
            stage._cache.clear()  # type: ignore[attr-defined]
    await asyncio.sleep(0)


async def test_a_user_over_the_daily_quota_is_refused_before_upstream_and_audited(
    live: Live,
) -> None:
    username = await live.new_user()
    key = await live.api_key(username)
    user = await live.user_row(username)
    async with httpx.AsyncClient(base_url=live.base_url, timeout=30) as client:
        first = await client.post("/v1/chat/completions", **_ask(key))  # type: ignore[arg-type]
        assert first.status_code == 200
        await live.audit_when_written(user.id)
        await live.services.db.write(
            quotas.set_quota,
            quotas.USER,
            user.id,
            daily_tokens=1,
            monthly_tokens=None,
            requests_per_minute=None,
        )
        await _wait_for_cache(live)
        sent_before = len(live.upstream.requests)
        refused = await client.post("/v1/chat/completions", **_ask(key))  # type: ignore[arg-type]
    assert refused.status_code == 429
    error = refused.json()["error"]
    assert error["code"] == "quota_exceeded" and error["type"] == "rate_limit_error"
    assert "リセット" in error["message"] and "Asia/Tokyo" in error["message"]
    assert int(refused.headers["retry-after"]) > 0
    assert len(live.upstream.requests) == sent_before  # nothing went upstream
    records = await live.audit_when_written(user.id, 2)
    assert [r.status for r in records] == [TurnStatus.QUOTA, TurnStatus.OK]
    assert records[0].error_code == "quota_exceeded" and records[0].endpoint is None
    assert '"quota.user.daily"' in (records[0].decisions or "")


async def test_a_group_rate_limit_refuses_the_request_over_it_in_the_workspace(
    live: Live,
) -> None:
    username = await live.new_user()
    group = await live.services.db.write(
        groups.create_group, name=f"g-{username}", display_name="税務課"
    )
    await live.services.accounts.set_membership(group.name, username, member=True)
    await live.services.db.write(
        quotas.set_quota,
        quotas.GROUP,
        group.id,
        daily_tokens=None,
        monthly_tokens=None,
        requests_per_minute=1,
    )
    user = await live.user_row(username)
    async with live.signed_in(username) as client:
        conversation = (await client.post("/api/conversations", json={"model": MODEL})).json()
        path = f"/api/conversations/{conversation['id']}/messages"
        ok = await client.post(path, json={"model": MODEL, "content": "一回目"})
        assert "event: done" in ok.text
        refused = await client.post(path, json={"model": MODEL, "content": "二回目"})
    assert "event: error" in refused.text and "rate_limited" in refused.text
    assert "1分あたりのリクエスト上限" in refused.text
    records = await live.audit_when_written(user.id, 2)
    assert records[0].status is TurnStatus.QUOTA and records[0].error_code == "rate_limited"
    assert records[0].groups == group.name
