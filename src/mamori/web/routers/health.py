"""Liveness and readiness, for load balancers and operators. No authentication: they reveal
only whether parts are up, never names of users or content."""

from __future__ import annotations

from fastapi import APIRouter

from mamori.gateway.registry import PROBE_CACHE_SECONDS
from mamori.web.deps import ServicesDep
from mamori.web.responses import Json

router = APIRouter()


@router.get("/healthz")
async def healthz() -> Json:
    return Json({"status": "ok"})


@router.get("/readyz")
async def readyz(services: ServicesDep) -> Json:
    database_ok = await services.db.ping()
    # With background health checks running this reads their latest results; one older than
    # two rounds (checks turned off, or stuck) is refreshed on the spot.
    settings = services.settings
    max_age = PROBE_CACHE_SECONDS
    if settings.health_check_interval:
        max_age = 2 * settings.health_check_interval + settings.health_check_timeout
    engines = await services.registry.health(timeout=2.0, max_age=max_age)
    engines_ok = any(e.reachable for e in engines)
    body = {
        "status": "ready" if database_ok and engines_ok else "not_ready",
        "database": {"reachable": database_ok, "dialect": services.db.dialect_name},
        "engines": {
            e.name: {"reachable": e.reachable, **({"error": e.error} if e.error else {})}
            for e in engines
        },
    }
    return Json(body, status_code=200 if database_ok and engines_ok else 503)
