"""Endpoints and models stored by the CLI."""

from __future__ import annotations

from collections.abc import Callable

from mamori.domain.endpoint import Endpoint, EndpointSource, Residency
from mamori.store import Database
from mamori.store.repos.endpoints import (
    delete_endpoint,
    list_endpoints,
    list_models,
    save_endpoint,
    save_model,
)


def _endpoint(name: str, model: str, **kw: object) -> Endpoint:
    values: dict[str, object] = {
        "name": name,
        "base_url": "http://10.0.0.5:8000/v1",
        "dialect": "vllm",
        "residency": Residency.ONPREM,
        "models": {model: "openai/gpt-oss-120b"},
        "api_key_env": "VLLM_KEY",
        "source": EndpointSource.CLI,
    }
    values.update(kw)
    return Endpoint(**values)  # type: ignore[arg-type]


async def test_save_list_update_delete(db: Database, unique: Callable[[str], str]) -> None:
    name, model = unique("ep"), unique("model")
    endpoint = _endpoint(name, model)
    await db.write(save_endpoint, endpoint)
    assert endpoint in await db.read(list_endpoints)

    changed = _endpoint(
        name, model, residency=Residency.DOMESTIC_CLOUD, models={model: "m2", "x-" + model: "x"}
    )
    await db.write(save_endpoint, changed)
    [stored] = [e for e in await db.read(list_endpoints) if e.name == name]
    assert stored == changed

    assert await db.write(delete_endpoint, name)
    assert not await db.write(delete_endpoint, name)
    assert name not in {e.name for e in await db.read(list_endpoints)}


async def test_saving_an_endpoint_lists_its_models(
    db: Database, unique: Callable[[str], str]
) -> None:
    first, second, model = unique("ep"), unique("ep"), unique("model")
    await db.write(save_endpoint, _endpoint(second, model))
    await db.write(save_endpoint, _endpoint(first, model))
    info = (await db.read(list_models))[model]
    assert info.display_name == model  # a bare row until an admin describes it
    assert info.endpoints == tuple(sorted([first, second]))

    await db.write(delete_endpoint, second)
    assert (await db.read(list_models))[model].endpoints == (first,)


async def test_save_model_upserts_and_survives_endpoint_saves(
    db: Database, unique: Callable[[str], str]
) -> None:
    name, model = unique("ep"), unique("model")
    await db.write(save_model, name=model, display_name="first")
    await db.write(
        save_model,
        name=model,
        display_name="gpt-oss 120B",
        supports_reasoning_effort=True,
        default_reasoning_effort="medium",
        context_length=131072,
        description_ja="オンプレミスの大規模モデル",
        description_en="On-prem large model",
    )
    await db.write(save_endpoint, _endpoint(name, model))
    info = (await db.read(list_models))[model]
    assert info.display_name == "gpt-oss 120B"
    assert info.supports_reasoning_effort
    assert (info.default_reasoning_effort, info.context_length) == ("medium", 131072)
    assert info.description_ja == "オンプレミスの大規模モデル"
    assert info.endpoints == (name,)


async def test_disabled_endpoints_are_hidden_by_default(
    db: Database, unique: Callable[[str], str]
) -> None:
    name, model = unique("ep"), unique("model")
    await db.write(save_endpoint, _endpoint(name, model), enabled=False)
    assert name not in {e.name for e in await db.read(list_endpoints)}
    assert name in {e.name for e in await db.read(list_endpoints, include_disabled=True)}
    assert (await db.read(list_models))[model].endpoints == ()
