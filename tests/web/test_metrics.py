"""GET /metrics on the live app: who may read it, and what a turn adds to it."""

from __future__ import annotations

import asyncio
import re

import httpx

from mamori.domain.principal import Role
from tests.web.conftest import MODEL, Live

TURN = f'{{model="{MODEL}",endpoint="gpu1",face="api",status="ok"}}'


async def scrape(live: Live, key: str) -> httpx.Response:
    async with httpx.AsyncClient(base_url=live.base_url) as client:
        return await client.get("/metrics", headers={"authorization": f"Bearer {key}"})


def sample(text: str, series: str) -> float:
    for line in text.splitlines():
        name, _, value = line.rpartition(" ")
        if name == series:
            return float(value)
    return 0.0


async def test_metrics_need_an_admin_or_auditor_key(live: Live) -> None:
    async with httpx.AsyncClient(base_url=live.base_url) as client:
        anonymous = await client.get("/metrics")
        wrong = await client.get("/metrics", headers={"authorization": "Bearer mk-nope"})
    assert anonymous.status_code == 401 and wrong.status_code == 401
    assert anonymous.json()["error"]["code"] == "unauthenticated"
    plain = await scrape(live, await live.api_key())
    assert plain.status_code == 403
    for role in (Role.ADMIN, Role.AUDITOR):
        allowed = await scrape(live, await live.api_key(await live.new_user(role)))
        assert allowed.status_code == 200
        assert allowed.headers["content-type"].startswith("text/plain; version=0.0.4")


async def test_endpoint_health_is_exposed_per_endpoint(live: Live) -> None:
    # Earlier tests may have tripped gpu1 with scripted 5xx; two good probes close it again.
    for _ in range(2):
        assert (await live.services.registry.probe("gpu1")).reachable
    text = (await scrape(live, await live.api_key(await live.new_user(Role.ADMIN)))).text
    assert sample(text, 'mamori_endpoint_up{endpoint="gpu1"}') == 1
    assert sample(text, 'mamori_endpoint_circuit_state{endpoint="gpu1"}') == 0
    assert sample(text, 'mamori_endpoint_in_flight{endpoint="gpu1"}') == 0
    assert sample(text, 'mamori_endpoint_up{endpoint="dead"}') == 0
    assert sample(text, 'mamori_endpoint_failures_total{endpoint="dead"}') >= 1
    latency = sample(text, 'mamori_endpoint_probe_latency_seconds{endpoint="gpu1"}')
    assert 0 < latency < 5
    assert "# TYPE mamori_endpoint_failures_total counter" in text


async def test_a_completed_turn_is_counted_once_with_its_tokens_and_timings(live: Live) -> None:
    admin = await live.api_key(await live.new_user(Role.ADMIN))
    before = (await scrape(live, admin)).text
    async with httpx.AsyncClient(base_url=live.base_url, timeout=30) as client:
        response = await client.post(
            "/v1/chat/completions",
            headers={"authorization": f"Bearer {await live.api_key()}"},
            json={"model": MODEL, "messages": [{"role": "user", "content": "hi"}]},
        )
    assert response.status_code == 200, response.text
    after = before
    for _ in range(100):  # the turn is recorded just after its last byte went out
        after = (await scrape(live, admin)).text
        if after != before and sample(after, f"mamori_chat_turns_total{TURN}") > 0:
            break
        await asyncio.sleep(0.05)

    def delta(series: str) -> float:
        return sample(after, series) - sample(before, series)

    assert delta(f"mamori_chat_turns_total{TURN}") == 1
    labels = TURN[:-1]
    assert delta(f'mamori_chat_tokens_total{labels},kind="prompt"}}') == 12
    assert delta(f'mamori_chat_tokens_total{labels},kind="completion"}}') == 3
    assert delta(f"mamori_chat_ttft_seconds_count{TURN}") == 1
    assert delta(f'mamori_chat_turn_duration_seconds_bucket{labels},le="+Inf"}}') == 1
    policy = 'mamori_policy_decisions_total{action="allow",rule="c1-approved",classification="c1"}'
    assert delta(policy) == 1


async def test_a_made_up_model_name_does_not_become_a_label(live: Live) -> None:
    admin = await live.api_key(await live.new_user(Role.ADMIN))
    async with httpx.AsyncClient(base_url=live.base_url, timeout=30) as client:
        response = await client.post(
            "/v1/chat/completions",
            headers={"authorization": f"Bearer {await live.api_key()}"},
            json={"model": "attacker-<script>", "messages": [{"role": "user", "content": "x"}]},
        )
    assert response.status_code == 404
    text = (await scrape(live, admin)).text
    assert "attacker" not in text
    assert re.search(r'mamori_chat_turns_total\{model="other",endpoint="none"', text)
