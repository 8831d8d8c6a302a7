"""One live server for every knowledge-base access test in this package, set up once."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import pytest_asyncio

from mamori.app import create_app
from mamori.domain.classification import Classification
from mamori.domain.principal import Role
from mamori.settings import EndpointSettings
from tests.support.fake_upstream import FakeUpstream, Script
from tests.web.conftest import Live, isolated_settings, serve, upload
from tests.web.kb_access.world import (
    A_TEXT,
    ANSWER,
    B_TEXT,
    CLOUD_MODEL,
    FILE_LIMIT,
    MODEL,
    Department,
    Doc,
    World,
    create_kb,
    unique,
)


@pytest_asyncio.fixture(scope="package", loop_scope="session")
async def world(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[World]:
    engine = FakeUpstream(Script(content=(ANSWER,)), models=(MODEL, CLOUD_MODEL))
    await engine.start()
    data_dir: Path = tmp_path_factory.mktemp("kb-access")
    settings = isolated_settings(
        data_dir,
        kb_max_file_bytes=FILE_LIMIT,
        endpoints=[
            EndpointSettings(
                name="gpu1", url=engine.base_url, dialect="vllm", residency="onprem", models=[MODEL]
            ),
            EndpointSettings(
                name="saas",
                url=engine.base_url,
                dialect="vllm",
                residency="domestic_cloud",
                models=[CLOUD_MODEL],
                max_classification=Classification.C2,
                trains_on_inputs=False,
                terms_of_service=False,
            ),
        ],
    )
    app = create_app(settings)
    server, task, port = await serve(app)
    try:
        live = Live(f"http://127.0.0.1:{port}", engine, app.state.services)
        accounts = live.services.accounts
        admin = await live.new_user(Role.ADMIN)
        people: dict[str, tuple[str, str, str]] = {}
        for role in ("a", "b", "reader", "writer", "outsider"):
            user = await live.new_user()
            group = await accounts.create_group(unique(role))
            await accounts.set_membership(group.name, user, member=True)
            people[role] = (user, group.name, group.id)
        a_kb = await create_kb(live, admin, people["a"][1])
        b_kb = await create_kb(live, admin, people["b"][1])
        secret_kb = await create_kb(live, admin, people["a"][1], "機密性3")
        async with live.signed_in(admin) as client:
            for role, can_write in (("reader", False), ("writer", True)):
                granted = await client.put(
                    f"/api/kbs/{a_kb['id']}/access",
                    json={"group": people[role][1], "can_write": can_write},
                )
                assert granted.status_code == 200, granted.text
        uploaded: dict[str, Doc] = {}
        for role, kb, text in (("a", a_kb, A_TEXT), ("b", b_kb, B_TEXT)):
            async with live.signed_in(people[role][0]) as client:
                response = await upload(
                    client, kb["id"], f"{role}.md", f"# 案内\n\n{text}\n".encode()
                )
                assert response.status_code == 202, response.text
                uploaded[role] = response.json()
        await live.services.ingestion.idle()
        yield World(
            live=live,
            admin=admin,
            a=Department(people["a"][1], people["a"][2], people["a"][0], a_kb),
            b=Department(people["b"][1], people["b"][2], people["b"][0], b_kb),
            secret_kb=secret_kb,
            a_doc=uploaded["a"],
            b_doc=uploaded["b"],
            reader=people["reader"][0],
            reader_group=people["reader"][1],
            reader_group_id=people["reader"][2],
            writer=people["writer"][0],
            outsider=people["outsider"][0],
        )
    finally:
        server.should_exit = True
        await task
        await engine.stop()
