"""A live mamori in front of three engines that serve the same model.

On-prem, a domestic cloud assessed for 機密性2, and a foreign 約款型 service, each a fake engine
that records every request it receives; plus one endpoint approved for masked text only. Used
by the sovereignty acceptance tests and the explain-versus-pipeline grid.
"""

from __future__ import annotations

import contextlib
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import orjson

from mamori.app import create_app
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
        # Idle connections are dropped before uvicorn's 5 s keep-alive ends: on a loaded
        # machine a request could otherwise go out on a socket the server is just closing.
        limits = httpx.Limits(keepalive_expiry=2)
        async with httpx.AsyncClient(base_url=self.base_url, timeout=60, limits=limits) as client:
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


@contextlib.asynccontextmanager
async def sovereign_app(data_dir: Path) -> AsyncIterator[Sovereign]:
    """mamori in front of three engines serving one model: on-prem, domestic, foreign."""
    engines = [FakeUpstream(Script(content=("了解",)), models=ALL_MODELS) for _ in "abc"]
    for engine in engines:
        await engine.start()
    onprem, domestic, foreign = engines
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
    try:
        yield Sovereign(
            f"http://127.0.0.1:{port}", app.state.services, onprem, domestic, foreign, config
        )
    finally:
        server.should_exit = True
        await task
        for engine in engines:
            await engine.stop()


async def api_turn(
    client: httpx.AsyncClient, text: str, label: str | None = None, model: str = MODEL
) -> httpx.Response:
    # HTTP headers are ASCII: Japanese names travel percent-encoded (English ones work as is).
    headers = {"x-mamori-classification": quote(label)} if label is not None else {}
    body = {"model": model, "messages": [{"role": "user", "content": text}]}
    return await client.post("/v1/chat/completions", json=body, headers=headers)


def all_chat_records(conn: Any) -> list[Any]:
    from mamori.store.repos import audit

    return [r for _, r in audit.list_audit(conn, limit=100_000) if r.action == "chat"]


def user_id(conn: Any, username: str) -> str:
    from mamori.store.repos import users

    row = users.get_user_by_username(conn, username)
    assert row is not None
    return str(row.id)
