"""Where endpoints and models come from: mamori.toml, the embedded engine, and the CLI.

The CLI's endpoints live in the database and are re-read every few seconds, so
`mamori endpoints add` takes effect on a running server without a restart.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging

from mamori.domain.endpoint import Endpoint, EndpointSource, ModelInfo, Residency
from mamori.gateway.dialects import get_dialect
from mamori.gateway.egress import EgressControl
from mamori.gateway.local_engine import LocalEngine
from mamori.gateway.registry import EndpointRegistry
from mamori.settings import Settings
from mamori.store.database import Database
from mamori.store.repos import endpoints as endpoint_repo

log = logging.getLogger(__name__)

LOCAL_ENDPOINT = "local"
LOCAL_MODEL = "gemma-3-270m"
REFRESH_SECONDS = 5.0


class Catalog:
    """Keeps the registry in step with the configured and stored endpoints."""

    def __init__(
        self,
        settings: Settings,
        db: Database,
        registry: EndpointRegistry,
        fixed: list[Endpoint],
        egress: EgressControl | None = None,
    ) -> None:
        self.settings = settings
        self.db = db
        self.registry = registry
        self.fixed = fixed
        self.egress = egress

    async def refresh(self) -> None:
        stored = await self.db.read(endpoint_repo.list_endpoints)
        stored_models = await self.db.read(endpoint_repo.list_models)
        names = {e.name for e in self.fixed}
        endpoints = [*self.fixed, *(e for e in stored if e.name not in names)]
        models = apply_model_settings(
            {LOCAL_MODEL: LOCAL_MODEL_INFO, **stored_models}, self.settings
        )
        if self.egress is not None:
            # Widen before the registry can route to a new endpoint; narrow right after it
            # stops routing to a removed one.
            self.egress.allow_only([*self.registry.endpoints(), *endpoints])
        await self.registry.replace(endpoints, models)
        if self.egress is not None:
            self.egress.allow_only(endpoints)

    async def keep_fresh(self) -> None:
        while True:
            await asyncio.sleep(REFRESH_SECONDS)
            try:
                await self.refresh()
            except Exception:
                log.exception("could not refresh endpoints from the database")


LOCAL_MODEL_INFO = ModelInfo(
    name=LOCAL_MODEL,
    display_name="Gemma 3 270M",
    endpoints=(LOCAL_ENDPOINT,),
    context_length=4096,
    max_output_tokens=512,
    description_ja=(
        "内蔵エンジンで動く小型のベースモデル（指示追従の学習なし）です。動作確認・デモ・"
        "エッジ拠点向けで、業務の回答には使えません。"
    ),
    description_en=(
        "A tiny base model (not instruction-tuned) on the embedded engine, for demos, checks "
        "and edge sites. Not for real work."
    ),
    is_demo=True,
)


def local_endpoint(engine: LocalEngine) -> Endpoint:
    return Endpoint(
        name=LOCAL_ENDPOINT,
        base_url=engine.base_url,
        dialect="llamacpp",
        residency=Residency.ONPREM,
        models={LOCAL_MODEL: engine.upstream_model_id},
        source=EndpointSource.EMBEDDED,
    )


def configured_endpoints(settings: Settings) -> list[Endpoint]:
    return [
        Endpoint(
            name=e.name,
            base_url=e.url.rstrip("/"),
            dialect=get_dialect(e.dialect).name,
            residency=e.residency,
            models=e.model_map(),
            api_key_env=e.api_key_env,
            source=EndpointSource.CONFIG,
            assessed_trust=e.assessed_trust(),
        )
        for e in settings.endpoints
    ]


def apply_model_settings(models: dict[str, ModelInfo], settings: Settings) -> dict[str, ModelInfo]:
    """``models`` with each ``[models.NAME]`` table of mamori.toml laid over it.

    Only the keys the operator wrote replace what is known, so configuring the demo model's
    output limit keeps its honest demo label and descriptions.
    """
    result = dict(models)
    for name, configured in settings.models.items():
        base = result.get(name) or ModelInfo(name=name, display_name=name, endpoints=())
        changes = {key: getattr(configured, key) for key in configured.model_fields_set}
        result[name] = dataclasses.replace(base, **changes)
    return result
