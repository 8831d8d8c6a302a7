"""A live mamori on loopback, in the test session's event loop, in front of a fake engine.

The server is real (uvicorn, real sockets, the real pipeline and database); only the engine is
scripted, so each test picks the engine's behaviour through ``live.script``.
"""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest
import pytest_asyncio
import uvicorn
from playwright.async_api import Browser, async_playwright

from mamori.app import create_app
from mamori.domain.principal import Role
from mamori.settings import EndpointSettings, ModelSettings, Settings
from mamori.web.services import Services
from mamori.web.session import CSRF_HEADER
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, require_chromium
from tests.support.fake_upstream import FakeUpstream, Script

MODEL = "gpt-oss-120b"
DEAD_MODEL = "offline-model"
# Served by the same fake engine, through Ollama's native API (dialect ollama_native).
OLLAMA_MODEL = "gpt-oss-20b"
OLLAMA_UPSTREAM_MODEL = "gpt-oss:20b"
OLLAMA_CONTEXT = 32768
# Writes reasoning summaries; served by the same fake engine as MODEL.
SUMMARY_MODEL = "summariser"
PASSWORD = "correct horse battery staple"


@dataclass
class Live:
    base_url: str
    upstream: FakeUpstream
    services: Services
    script: Script = field(default_factory=Script)
    # When set, chooses the engine's behaviour per request (e.g. for a tool loop).
    script_by_request: Callable[[dict[str, Any]], Script] | None = None

    def script_for(self, body: dict[str, Any]) -> Script:
        if self.script_by_request is not None:
            return self.script_by_request(body)
        return self.script

    async def new_user(self, *roles: Role) -> str:
        name = f"u-{uuid.uuid4().hex[:10]}"
        await self.services.accounts.create_user(name, PASSWORD, roles)
        return name

    async def api_key(self, username: str | None = None) -> str:
        username = username or await self.new_user()
        return (await self.services.accounts.create_api_key(username, "test")).plaintext

    @contextlib.asynccontextmanager
    async def signed_in(self, username: str | None = None) -> AsyncIterator[httpx.AsyncClient]:
        """A browser-like client with a session cookie and the CSRF header set."""
        username = username or await self.new_user()
        # Idle connections go before uvicorn's 5 s keep-alive ends, so no request is sent on
        # a socket the server is just closing (a race on a loaded machine).
        limits = httpx.Limits(keepalive_expiry=2)
        async with httpx.AsyncClient(base_url=self.base_url, timeout=30, limits=limits) as client:
            yield await self._sign_in(client, username)

    async def _sign_in(self, client: httpx.AsyncClient, username: str) -> httpx.AsyncClient:
        response = await client.post(
            "/login", data={"username": username, "password": PASSWORD, "next": "/"}
        )
        assert response.status_code == 303, response.text
        page = await client.get("/")
        marker = 'name="csrf-token" content="'
        start = page.text.index(marker) + len(marker)
        client.headers[CSRF_HEADER] = page.text[start : page.text.index('"', start)]
        return client

    async def user_row(self, username: str) -> Any:
        from mamori.store.repos import users

        return await self.services.db.read(lambda c: users.get_user_by_username(c, username))

    async def usage_rows(self, user_id: str) -> list[Any]:
        from mamori.store.repos import usage

        return await self.services.db.read(lambda c: usage.list_usage(c, user_id=user_id))

    async def chat_turns(self, username: str, *texts: str) -> None:
        """``username`` asks MODEL each of ``texts`` through /v1, one turn each, and the turns
        are recorded before this returns."""
        key = await self.api_key(username)
        user = await self.user_row(username)
        before = len(await self.audit_rows(user_id=user.id))
        async with httpx.AsyncClient(base_url=self.base_url, timeout=10) as client:
            for text in texts:
                response = await client.post(
                    "/v1/chat/completions",
                    json={"model": MODEL, "messages": [{"role": "user", "content": text}]},
                    headers={"authorization": f"Bearer {key}"},
                )
                assert response.status_code == 200, response.text
        await self.audit_when_written(user.id, before + len(texts))

    async def audit_when_written(self, user_id: str, count: int = 1) -> list[Any]:
        """The user's audit records once ``count`` exist: a turn is recorded just after its
        last byte reaches the client, so a fast client can look before it is written."""
        for _ in range(100):
            rows = await self.audit_rows(user_id=user_id)
            if len(rows) >= count:
                return rows
            await asyncio.sleep(0.05)
        return await self.audit_rows(user_id=user_id)

    async def audit_rows(self, turn_id: str | None = None, user_id: str | None = None) -> list[Any]:
        from mamori.store.repos import audit

        rows = await self.services.db.read(
            lambda c: audit.list_audit(c, limit=1000, turn_id=turn_id, user_id=user_id)
        )
        return [record for _, record in rows]


def isolated_settings(data_dir: Path, **settings: Any) -> Settings:
    """Settings for a live server of a test module's own: SQLite in ``data_dir``, no embedded
    engine, no bootstrap admin, one round of health checks at startup and then none."""
    return Settings(
        data_dir=data_dir,
        database_url=f"sqlite:///{data_dir / 'mamori.sqlite3'}",
        local_engine=False,
        bootstrap_admin=False,
        log_json=False,
        health_check_interval=3600,
        **settings,
    )


async def serve(app: Any) -> tuple[uvicorn.Server, asyncio.Task[None], int]:
    config = uvicorn.Config(
        app, host="127.0.0.1", port=0, log_config=None, access_log=False, lifespan="on"
    )
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
            raise RuntimeError("server stopped before it started")
        await asyncio.sleep(0.02)
    port = server.servers[0].sockets[0].getsockname()[1]
    return server, task, port


async def upload(
    client: httpx.AsyncClient, kb_id: object, name: str, data: bytes
) -> httpx.Response:
    """A file put into a knowledge base through the workspace API."""
    return await client.put(f"/api/kbs/{kb_id}/documents", params={"filename": name}, content=data)


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def live(
    private_db_url: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[Live]:
    holder: dict[str, Live] = {}
    upstream = FakeUpstream(
        script_for=lambda body: holder["live"].script_for(body), models=(MODEL,)
    )
    await upstream.start()
    data_dir: Path = tmp_path_factory.mktemp("data")
    settings = Settings(
        data_dir=data_dir,
        database_url=private_db_url,
        local_engine=False,
        bootstrap_admin=False,
        log_json=False,
        first_byte_timeout=5,
        idle_timeout=2,
        # Raw, so the faces' reasoning plumbing is visible to most tests; the hidden and summary
        # displays are given through groups in test_reasoning_display.
        reasoning_display="raw",
        reasoning_summariser_model=SUMMARY_MODEL,
        # One round of health checks at startup, then none while the tests run, so no probe
        # lands between a test's request and its look at what the engine received.
        health_check_interval=3600,
        endpoints=[
            EndpointSettings(
                name="gpu1",
                url=upstream.base_url,
                dialect="vllm",
                residency="onprem",
                models=[MODEL, SUMMARY_MODEL],
            ),
            EndpointSettings(
                name="ollama1",
                url=upstream.root_url,
                dialect="ollama_native",
                residency="onprem",
                models={OLLAMA_MODEL: OLLAMA_UPSTREAM_MODEL},
            ),
            # Nothing listens on port 9 (discard) here: an engine that is down.
            EndpointSettings(
                name="dead", url="http://127.0.0.1:9/v1", residency="onprem", models=[DEAD_MODEL]
            ),
        ],
        models={
            MODEL: ModelSettings(supports_reasoning_effort=True, display_name="gpt-oss 120B"),
            OLLAMA_MODEL: ModelSettings(
                supports_reasoning_effort=True, context_length=OLLAMA_CONTEXT
            ),
        },
    )
    app = create_app(settings)
    server, task, port = await serve(app)
    live = Live(f"http://127.0.0.1:{port}", upstream, app.state.services)
    registry = live.services.registry

    def probed() -> bool:
        return all(s.last_probe is not None for s in registry.status())

    await upstream.wait_for(probed, timeout=5)
    holder["live"] = live
    yield live
    server.should_exit = True
    await task
    await upstream.stop()


@pytest.fixture(autouse=True)
def _reset_script(request: pytest.FixtureRequest) -> None:
    if "live" in request.fixturenames:
        live: Live = request.getfixturevalue("live")
        live.script = Script()
        live.script_by_request = None


@pytest_asyncio.fixture(scope="session", loop_scope="session")
async def browser() -> AsyncIterator[Browser]:
    """One headless Chromium for every browser test: Debian's, never Playwright's own
    download, and without its phoning home."""
    require_chromium()
    async with async_playwright() as playwright:
        launched = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield launched
        await launched.close()
