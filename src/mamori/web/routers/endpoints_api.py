"""The admin console's JSON API for endpoints and their models: list them with their health,
add or replace one (with the organisation's assessment of what it may hold), remove one, and
test the connection. mamori.endpoints_admin records every change."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response
from pydantic import BaseModel, Field

from mamori.accounts.authz import require_admin
from mamori.domain.endpoint import (
    Endpoint,
    EndpointSource,
    Residency,
    assessment,
    display_url,
)
from mamori.endpoints_admin import remove_endpoint, save_endpoint
from mamori.errors import ConfigError, InvalidRequestError, NotFoundError
from mamori.gateway.connection_check import chat_check
from mamori.gateway.dialects import DIALECTS, get_dialect
from mamori.gateway.registry import EndpointStatus
from mamori.settings import ClassificationName
from mamori.web.deps import ServicesDep, SessionDep
from mamori.web.responses import Json

router = APIRouter(prefix="/api/admin/endpoints")

ADMINS_ONLY = "only administrators manage endpoints"


class NewEndpoint(BaseModel):
    name: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
    url: str = Field(min_length=8, max_length=2000)
    dialect: str = Field(default="openai", max_length=50)
    residency: Residency
    # "gpt-oss-120b", or "public=upstream" when the engine names the model differently.
    models: list[str] = Field(min_length=1, max_length=50)
    # The name of the environment variable that holds the engine's key, never the key.
    api_key_env: str | None = Field(default=None, pattern=r"^[A-Z_][A-Z0-9_]{0,199}$")
    # Unset: not assessed; the residency's cautious default applies.
    max_classification: ClassificationName | None = None
    trains_on_inputs: bool | None = None
    terms_of_service: bool | None = None
    approved_for_masked: bool = False


def endpoint_json(endpoint: Endpoint, status: EndpointStatus | None) -> dict[str, object]:
    trust = endpoint.trust
    probe = status.last_probe if status else None
    return {
        "name": endpoint.name,
        "source": endpoint.source.value,
        "editable": endpoint.source is EndpointSource.CLI,
        "url": display_url(endpoint.base_url),
        "dialect": endpoint.dialect,
        "residency": endpoint.residency.value,
        "models": sorted(endpoint.models),
        "assessed": endpoint.assessed_trust is not None,
        "max_classification": int(trust.max_classification),
        "trains_on_inputs": trust.trains_on_inputs,
        "terms_of_service": trust.terms_of_service,
        "approved_for_masked": trust.approved_for_masked,
        "health": {
            "up": status.up if status else None,
            "circuit": status.circuit.value if status else None,
            "in_flight": status.in_flight if status else 0,
            "reachable": probe.reachable if probe else None,
            "latency_ms": round(probe.latency * 1000, 1) if probe and probe.latency else None,
            "error": probe.error if probe else None,
            "missing": list(probe.missing) if probe else [],
            "checked_at": probe.checked_at_wall if probe else None,
        },
    }


@router.get("")
async def list_endpoints(session: SessionDep, services: ServicesDep) -> Json:
    require_admin(session.principal, ADMINS_ONLY)
    statuses = {s.name: s for s in services.registry.status()}
    listed = [endpoint_json(e, statuses.get(e.name)) for e in services.registry.endpoints()]
    return Json({"endpoints": listed, "dialects": sorted(DIALECTS)})


@router.post("", status_code=201)
async def add_endpoint(body: NewEndpoint, session: SessionDep, services: ServicesDep) -> Json:
    if not body.url.startswith(("http://", "https://")):
        raise InvalidRequestError("the URL must start with http:// or https://")
    mapping: dict[str, str] = {}
    for item in body.models:
        public, _, upstream = item.strip().partition("=")
        if not public.strip():
            raise InvalidRequestError(f"model {item!r} has no name")
        mapping[public.strip()] = upstream.strip() or public.strip()
    try:
        dialect = get_dialect(body.dialect).name
    except ConfigError as exc:
        raise InvalidRequestError(exc.message) from exc
    trust = None
    if body.max_classification is not None:
        trust = assessment(
            body.residency,
            body.max_classification,
            trains_on_inputs=body.trains_on_inputs,
            terms_of_service=body.terms_of_service,
            approved_for_masked=body.approved_for_masked,
        )
    endpoint = Endpoint(
        name=body.name,
        base_url=body.url.rstrip("/"),
        dialect=dialect,
        residency=body.residency,
        models=mapping,
        api_key_env=body.api_key_env,
        source=EndpointSource.CLI,
        assessed_trust=trust,
    )
    await save_endpoint(services.catalog, session.principal, endpoint)
    # A first probe now, so the console shows at once whether the engine answers.
    await services.registry.probe(endpoint.name, timeout=services.settings.health_check_timeout)
    statuses = {s.name: s for s in services.registry.status()}
    saved = services.registry.endpoint(endpoint.name) or endpoint
    return Json(endpoint_json(saved, statuses.get(endpoint.name)), status_code=201)


@router.delete("/{name}", status_code=204)
async def delete_endpoint(name: str, session: SessionDep, services: ServicesDep) -> Response:
    await remove_endpoint(services.catalog, session.principal, name)
    return Response(status_code=204)


@router.post("/{name}/test")
async def test_endpoint(name: str, session: SessionDep, services: ServicesDep) -> Json:
    """Lists the engine's models, then streams a short reply: whether it answers, how fast,
    and what it is missing. Nothing of a person's is sent."""
    require_admin(session.principal, ADMINS_ONLY)
    endpoint = services.registry.endpoint(name)
    if endpoint is None:
        raise NotFoundError(f"no endpoint {name!r}")
    health = await services.registry.probe(name, timeout=services.settings.health_check_timeout)
    check = await chat_check(services.registry.backend(name), endpoint)
    return Json(
        {
            "name": name,
            "reachable": health.reachable,
            "models": health.models,
            "missing": list(health.missing),
            "latency_ms": round(health.latency * 1000, 1) if health.latency else None,
            "error": health.error,
            "chat": {
                "ok": check.ok,
                "first_token_ms": round(check.first_token_ms, 1)
                if check.first_token_ms is not None
                else None,
                "total_ms": round(check.total_ms, 1),
                "text": check.text,
                "error_code": check.error_code,
            },
        }
    )
