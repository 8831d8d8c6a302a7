"""`mamori policy explain` agrees with what the pipeline does, over a grid of label × endpoint ×
group: the operator's explanation is the decision, not a second opinion."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator

import httpx
import pytest
import pytest_asyncio
from click.testing import CliRunner

from mamori.cli import main
from mamori.domain.classification import Classification
from tests.support.sovereign import (
    ALL_MODELS,
    Sovereign,
    all_chat_records,
    api_turn,
    sovereign_app,
    user_id,
)


@pytest_asyncio.fixture(scope="module", loop_scope="session")
async def sov(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Sovereign]:
    async with sovereign_app(tmp_path_factory.mktemp("grid")) as app:
        yield app


GRID_LABELS = (None, "公開", "機密性1", "機密性2", "機密性3")
GRID_GROUPS = (None, Classification.C2, Classification.C3)


def explained(output: str) -> tuple[str, str, str | None]:
    fields = dict(line.split(": ", 1) for line in output.splitlines() if ": " in line)
    endpoint = fields["endpoint / 送信先"]
    return fields["decision / 判定"], fields["rule / 規則"], None if endpoint == "-" else endpoint


async def test_policy_explain_agrees_with_the_pipeline_over_a_grid(sov: Sovereign) -> None:
    env = {"MAMORI_CONFIG": str(sov.config), "MAMORI_DATA_DIR": str(sov.config.parent)}
    users = {group: await sov.user(group) for group in GRID_GROUPS}
    keys = {group: await sov.key(name) for group, name in users.items()}
    ids = {
        group: await sov.services.db.read(functools.partial(user_id, username=name))
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
                    records = await sov.services.db.read(all_chat_records)
                    latest = next(r for r in records if r.user_id == ids[group])
                    pipeline = (latest.policy_action, latest.policy_rule, latest.endpoint)
                    args = ["policy", "explain", "--model", model, "--user", users[group]]
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
        ("mask_then_allow", "c2-masked"),
        ("allow", "c3-onprem"),
    } <= seen
