"""The sovereignty acceptance: what a turn holds decides where it goes, through both faces.

One live mamori in front of three engines serving the same model: on-prem, a domestic cloud
assessed for 機密性2, and a foreign 約款型 service that records every byte it receives. The
default policy, the built-in detectors and the real pipeline decide; the test only looks at
what each engine received and at the audit trail.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import orjson
import pytest
import pytest_asyncio

from mamori.app import create_app
from mamori.domain.audit import TurnStatus
from mamori.domain.classification import Classification
from mamori.domain.principal import Role
from mamori.settings import EndpointSettings, Settings
from mamori.web.services import Services
from mamori.web.session import CSRF_HEADER
from tests.support.fake_upstream import FakeUpstream, Script
from tests.web.conftest import PASSWORD, serve

MODEL = "gpt-oss-120b"
# Each served by one endpoint alone, for the explain grid; no endpoint of CLOUD_ONLY may take
# 要機密情報.
CLOUD_ONLY = "cloud-only"
ISMAP_ONLY = "ismap-only"
ONPREM_ONLY = "onprem-only"
MASKED_ONLY = "masked-only"
ALL_MODELS = (MODEL, CLOUD_ONLY, ISMAP_ONLY, ONPREM_ONLY, MASKED_ONLY)
DATA = Path(__file__).resolve().parents[3] / "shared" / "data" / "pii-ja-dev.jsonl"
PUBLIC_PROMPTS = [
    "市のホームページに載せる、ごみの分別に関する一般的な案内文を書いてください。",
    "Summarise the history of the Shinkansen in three sentences.",
    "公開済みの広報誌の見出し案を5つ考えてください。",
    "夏の熱中症予防の一般的な注意点を箇条書きにしてください。",
    "Explain what a municipal budget is, for a school class.",
]


@dataclass
class Sovereign:
    base_url: str
    services: Services
    onprem: FakeUpstream
    domestic: FakeUpstream
    foreign: FakeUpstream
    config: Path

    async def user(self, group_default: Classification | None = None) -> str:
        name = f"u-{uuid.uuid4().hex[:10]}"
        await self.services.accounts.create_user(name, PASSWORD, [Role.USER])
        if group_default is not None:
            group = f"g-{uuid.uuid4().hex[:8]}"
            accounts = self.services.accounts
            await accounts.create_group(group, default_classification=group_default)
            await accounts.set_membership(group, name, member=True)
        return name

    async def key(self, username: str) -> str:
        return (await self.services.accounts.create_api_key(username, "t")).plaintext

    @contextlib.asynccontextmanager
    async def signed_in(self, username: str) -> AsyncIterator[httpx.AsyncClient]:
        async with httpx.AsyncClient(base_url=self.base_url, timeout=60) as client:
            response = await client.post(
                "/login", data={"username": username, "password": PASSWORD, "next": "/"}
            )
            assert response.status_code == 303, response.text
            page = (await client.get("/")).text
            marker = 'name="csrf-token" content="'
            start = page.index(marker) + len(marker)
            client.headers[CSRF_HEADER] = page[start : page.index('"', start)]
            yield client

    def chat_bodies(self, engine: FakeUpstream) -> list[str]:
        """What each chat request to ``engine`` carried, as text."""
        return [
            orjson.dumps(r.body).decode()
            for r in engine.requests
            if r.method == "POST" and r.body is not None
        ]


def toml_endpoint(e: EndpointSettings) -> str:
    lines = ["[[endpoints]]"]
    for key, value in e.model_dump(exclude_none=True).items():
        if key == "max_classification":
            value = int(value)
        lines.append(f"{key} = {json.dumps(value, ensure_ascii=False)}")
    return "\n".join(lines)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def sov(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Sovereign]:
    engines = [FakeUpstream(Script(content=("了解",)), models=ALL_MODELS) for _ in "abc"]
    for engine in engines:
        await engine.start()
    onprem, domestic, foreign = engines
    data_dir = tmp_path_factory.mktemp("sovereign")
    endpoints = [
        # First: with equal load, routing prefers it, so every turn the policy lets through
        # goes there, and every other turn is a reroute the policy had to make.
        EndpointSettings(
            name="cloud",
            url=foreign.base_url,
            dialect="vllm",
            residency="foreign",
            models=[MODEL, CLOUD_ONLY],
        ),
        EndpointSettings(
            name="ismap",
            url=domestic.base_url,
            dialect="vllm",
            residency="domestic_cloud",
            models=[MODEL, ISMAP_ONLY],
            max_classification=Classification.C2,
            trains_on_inputs=False,
            terms_of_service=False,
        ),
        EndpointSettings(
            name="gpu1",
            url=onprem.base_url,
            dialect="vllm",
            residency="onprem",
            models=[MODEL, ONPREM_ONLY],
        ),
        # Approved for pseudonymised text only; the same engine as ismap, another contract.
        EndpointSettings(
            name="masked",
            url=domestic.base_url,
            dialect="vllm",
            residency="domestic_cloud",
            models=[MASKED_ONLY],
            max_classification=Classification.C1,
            trains_on_inputs=False,
            terms_of_service=False,
            approved_for_masked=True,
        ),
    ]
    database_url = f"sqlite:///{data_dir / 'mamori.sqlite3'}"
    settings = Settings(
        data_dir=data_dir,
        database_url=database_url,
        local_engine=False,
        bootstrap_admin=False,
        log_json=False,
        health_check_interval=3600,
        endpoints=endpoints,
    )
    config = data_dir / "mamori.toml"
    config.write_text(
        f'database_url = "{database_url}"\nlocal_engine = false\n\n'
        + "\n\n".join(toml_endpoint(e) for e in endpoints)
        + "\n",
        encoding="utf-8",
    )
    app = create_app(settings)
    server, task, port = await serve(app)
    yield Sovereign(
        f"http://127.0.0.1:{port}", app.state.services, onprem, domestic, foreign, config
    )
    server.should_exit = True
    await task
    for engine in engines:
        await engine.stop()


async def gather_limited(jobs: list[Callable[[], Awaitable[Any]]], limit: int = 12) -> list[Any]:
    gate = asyncio.Semaphore(limit)

    async def one(job: Callable[[], Awaitable[Any]]) -> Any:
        async with gate:
            return await job()

    return await asyncio.gather(*(one(job) for job in jobs))


async def api_turn(
    client: httpx.AsyncClient, text: str, label: str | None = None, model: str = MODEL
) -> httpx.Response:
    # HTTP headers are ASCII: Japanese names travel percent-encoded (English ones work as is).
    headers = {"x-mamori-classification": quote(label)} if label is not None else {}
    body = {"model": model, "messages": [{"role": "user", "content": text}]}
    return await client.post("/v1/chat/completions", json=body, headers=headers)


async def ui_turn(client: httpx.AsyncClient, text: str, label: int | None = None) -> list[Any]:
    created = await client.post("/api/conversations", json={"classification": label})
    assert created.status_code == 201, created.text
    conversation = created.json()["id"]
    response = await client.post(
        f"/api/conversations/{conversation}/messages", json={"model": MODEL, "content": text}
    )
    assert response.status_code == 200, response.text
    events = []
    for block in response.text.strip().split("\n\n"):
        lines = block.split("\n")
        name = lines[0].removeprefix("event: ")
        events.append((name, orjson.loads(lines[1].removeprefix("data: "))))
    return events


async def test_the_foreign_engine_receives_nothing_confidential_through_either_face(
    sov: Sovereign,
) -> None:
    if not DATA.exists():
        pytest.skip(f"{DATA} is not on this machine")
    corpus = [json.loads(line) for line in DATA.read_text(encoding="utf-8").splitlines()]
    c2_marker, c3_marker = f"C2-MEMO-{uuid.uuid4().hex}", f"C3-MEMO-{uuid.uuid4().hex}"
    clerk = await sov.user()
    zeimu = await sov.user(Classification.C2)  # a group whose work is 機密性2 by default
    jinji = await sov.user(Classification.C3)
    async with sov.signed_in(clerk) as ui:
        clerk_key, zeimu_key, jinji_key = [await sov.key(u) for u in (clerk, zeimu, jinji)]

        def api_as(key: str, text: str, label: str | None = None) -> Callable[[], Awaitable[Any]]:
            async def call() -> httpx.Response:
                api_client = httpx.AsyncClient(
                    base_url=sov.base_url, timeout=60, headers={"authorization": f"Bearer {key}"}
                )
                async with api_client:
                    return await api_turn(api_client, text, label)

            return call

        def ui_as(text: str, label: int | None = None) -> Callable[[], Awaitable[Any]]:
            return lambda: ui_turn(ui, text, label)

        jobs: list[Callable[[], Awaitable[Any]]] = []
        for row in corpus:
            jobs += [api_as(clerk_key, row["text"]), ui_as(row["text"])]
        public = [api_as(clerk_key, p, "公開") for p in PUBLIC_PROMPTS]
        public += [ui_as(p, 0) for p in PUBLIC_PROMPTS]
        labelled = [
            api_as(zeimu_key, f"{c2_marker} 課税台帳の照合手順をまとめて"),
            api_as(jinji_key, f"{c3_marker} 人事評価の原案を整えて"),
            api_as(clerk_key, f"{c2_marker} 内部の検討メモ", "機密性2"),
            ui_as(f"{c2_marker} 内部の検討メモを要約して", 2),
            ui_as(f"{c3_marker} 懲戒処分の案を整理して", 3),
        ]
        results = await gather_limited([*jobs, *labelled])
        # One at a time, so routing's preference (the first endpoint, when all are idle) is
        # what the policy allows or overrides, not whichever engine happened to be less busy.
        results += [await job() for job in public]

    # Every turn was answered: nothing was refused, confidential ones were rerouted.
    for result in results:
        if isinstance(result, httpx.Response):
            assert result.status_code == 200, result.text
        else:
            assert result[-1] == ("done", result[-1][1]) and result[-1][1]["status"] == "complete"

    to_foreign = sov.chat_bodies(sov.foreign)
    pii_values = {e["value"] for row in corpus for e in row["entities"]}
    leaked = sorted(v for v in pii_values if any(v in body for body in to_foreign))
    assert leaked == [], f"{len(leaked)} PII values reached the foreign engine: {leaked[:10]}"
    assert not any(c2_marker in b or c3_marker in b for b in to_foreign)
    # 公開 prompts are still served, by the endpoint routing prefers and the policy allows.
    for prompt in PUBLIC_PROMPTS:
        assert sum(prompt in body for body in to_foreign) == 2
    # 機密性2 went to the assessed domestic endpoint or on-prem (whichever was less busy);
    # 機密性3 stayed on-prem.
    to_domestic, to_onprem = sov.chat_bodies(sov.domestic), sov.chat_bodies(sov.onprem)
    assert sum(c2_marker in b for b in to_domestic + to_onprem) == 3
    assert not any(c3_marker in b for b in to_domestic)
    assert sum(c3_marker in b for b in to_onprem) == 2

    # The audit trail says why, turn by turn.
    records = await sov.services.db.read(lambda c: _all_chat_records(c))
    rerouted = [r for r in records if r.policy_action == "reroute"]
    assert rerouted and all(r.endpoint in ("ismap", "gpu1") for r in rerouted)
    assert all(r.endpoint != "cloud" for r in records if r.classification >= Classification.C2)
    my_number = [r for r in records if r.special_personal]
    with_my_number = sum(any(e["label"] == "MY_NUMBER" for e in r["entities"]) for r in corpus)
    assert len(my_number) >= 2 * with_my_number and all(
        (r.endpoint, r.policy_rule, r.classification) == ("gpu1", "c3-onprem", Classification.C3)
        for r in my_number
    )
    sample = orjson.loads(my_number[0].decisions or "[]")
    route = next(d for d in sample if d["stage"] == "policy.route")
    assert "cloud:confidential-never-tos" in route["refused"].split(";")
    classify = next(d for d in sample if d["stage"] == "policy.classify")
    assert classify["action"] == "raise" and "my_number" in classify["kinds"]


def _all_chat_records(conn: Any) -> list[Any]:
    from mamori.store.repos import audit

    return [r for _, r in audit.list_audit(conn, limit=100_000) if r.action == "chat"]


async def test_a_model_with_no_compliant_endpoint_is_denied_before_any_upstream_call(
    sov: Sovereign,
) -> None:
    clerk = await sov.user()
    before = len(sov.foreign.requests)
    async with httpx.AsyncClient(
        base_url=sov.base_url,
        timeout=30,
        headers={"authorization": f"Bearer {await sov.key(clerk)}"},
    ) as api:
        response = await api_turn(api, "課税台帳の照合", "機密性2", model=CLOUD_ONLY)
    assert response.status_code == 403, response.text
    error = response.json()["error"]
    assert error["code"] == "policy_denied" and error["type"] == "permission_error"
    assert "confidential-never-tos" in error["message"]
    assert len(sov.foreign.requests) == before
    user = await sov.services.db.read(lambda c: _user_id(c, clerk))
    [record] = [r for r in await sov.services.db.read(_all_chat_records) if r.user_id == user]
    assert record.status is TurnStatus.DENIED and record.endpoint is None
    assert (record.policy_action, record.policy_rule) == ("deny", "confidential-never-tos")
    [route] = [d for d in orjson.loads(record.decisions or "[]") if d["stage"] == "policy.route"]
    assert route["refused"] == "cloud:confidential-never-tos"


def _user_id(conn: Any, username: str) -> str:
    from mamori.store.repos import users

    row = users.get_user_by_username(conn, username)
    assert row is not None
    return str(row.id)


GRID_LABELS = (None, "公開", "機密性1", "機密性2", "機密性3")
GRID_GROUPS = (None, Classification.C2, Classification.C3)
# Where routing sends each model without a policy: the first endpoint serving it (equal load).
PREFERRED = {
    MODEL: "cloud",
    CLOUD_ONLY: "cloud",
    ISMAP_ONLY: "ismap",
    ONPREM_ONLY: "gpu1",
    MASKED_ONLY: "masked",
}


def explained(output: str) -> tuple[str, str, str | None]:
    fields = dict(line.split(": ", 1) for line in output.splitlines() if ": " in line)
    endpoint = fields["endpoint / 送信先"]
    return fields["decision / 判定"], fields["rule / 規則"], None if endpoint == "-" else endpoint


async def test_policy_explain_agrees_with_the_pipeline_over_a_grid(sov: Sovereign) -> None:
    from click.testing import CliRunner

    from mamori.cli import main

    env = {"MAMORI_CONFIG": str(sov.config), "MAMORI_DATA_DIR": str(sov.config.parent)}
    users = {group: await sov.user(group) for group in GRID_GROUPS}
    keys = {group: await sov.key(name) for group, name in users.items()}
    ids = {
        group: await sov.services.db.read(functools.partial(_user_id, username=name))
        for group, name in users.items()
    }
    runner = CliRunner()
    cells = 0
    seen: set[tuple[str | None, str | None]] = set()
    for group in GRID_GROUPS:
        headers = {"authorization": f"Bearer {keys[group]}"}
        async with httpx.AsyncClient(base_url=sov.base_url, timeout=30, headers=headers) as api:
            for model in ALL_MODELS:
                for label in GRID_LABELS:
                    response = await api_turn(api, "手順書の下書き", label, model=model)
                    assert response.status_code in (200, 403), response.text
                    records = await sov.services.db.read(_all_chat_records)
                    latest = next(r for r in records if r.user_id == ids[group])
                    pipeline = (latest.policy_action, latest.policy_rule, latest.endpoint)
                    args = ["policy", "explain", "--model", model, "--user", users[group]]
                    args += ["--endpoint", PREFERRED[model]]
                    if label is not None:
                        args += ["--classification", label]
                    result = await asyncio.to_thread(runner.invoke, main, args, env=env)
                    assert result.exit_code == 0, result.output
                    cell = f"group={group} model={model} label={label}"
                    assert explained(result.output) == pipeline, cell
                    assert (response.status_code == 403) == (pipeline[0] == "deny"), cell
                    seen.add(pipeline[:2])
                    cells += 1
    assert cells == len(GRID_GROUPS) * len(ALL_MODELS) * len(GRID_LABELS)
    # The grid reaches every kind of outcome, not only the easy ones.
    assert {
        ("allow", "c1-approved"),
        ("reroute", "c2-onprem-or-approved"),
        ("reroute", "c3-onprem"),
        ("deny", "confidential-never-tos"),
        ("deny", "c3-refuse"),
        ("deny", "policy.mask-unavailable"),
        ("allow", "c3-onprem"),
    } <= seen
