"""GET /metrics: Prometheus text exposition, for admins and auditors with an API key.

Prometheus sends the key as a bearer credential (``authorization`` in its scrape config).
"""

from __future__ import annotations

from collections.abc import Iterable

from fastapi import APIRouter
from fastapi.responses import Response

from mamori.domain.principal import Role
from mamori.errors import ForbiddenError
from mamori.gateway.registry import EndpointStatus
from mamori.metrics import Counter, Family, Gauge, exposition
from mamori.web.deps import ApiPrincipal, ServicesDep

router = APIRouter()

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
READERS = frozenset({Role.ADMIN, Role.AUDITOR})


@router.get("/metrics")
async def metrics(services: ServicesDep, principal: ApiPrincipal) -> Response:
    if not principal.roles & READERS:
        raise ForbiddenError("metrics are for administrators and auditors")
    families = [*endpoint_families(services.registry.status()), *services.metrics.families()]
    return Response(exposition(families), media_type=CONTENT_TYPE)


def endpoint_families(statuses: Iterable[EndpointStatus]) -> list[Family]:
    """Gauges read off the registry at scrape time; the failure count only ever grows for as
    long as the endpoint's configuration stays the same."""
    labels = ("endpoint",)
    up = Gauge(
        "mamori_endpoint_up",
        "1 if the endpoint may take turns (probe ok, circuit not open).",
        labels,
    )
    circuit = Gauge(
        "mamori_endpoint_circuit_state", "Circuit breaker: 0 closed, 1 half-open, 2 open.", labels
    )
    in_flight = Gauge("mamori_endpoint_in_flight", "Requests in flight to the endpoint.", labels)
    failures = Counter(
        "mamori_endpoint_failures_total", "Failed requests and probes of the endpoint.", labels
    )
    latency = Gauge(
        "mamori_endpoint_probe_latency_seconds", "Duration of the last health probe.", labels
    )
    missing = Gauge(
        "mamori_endpoint_models_missing",
        "Configured models the engine did not list at the last probe.",
        labels,
    )
    for status in statuses:
        key = (status.name,)
        up.set(key, 1.0 if status.up else 0.0)
        circuit.set(key, float(status.circuit))
        in_flight.set(key, float(status.in_flight))
        failures.values[key] = float(status.failures_total)
        probe = status.last_probe
        if probe is not None:
            if probe.latency is not None:
                latency.set(key, probe.latency)
            missing.set(key, float(len(probe.missing)))
    return [up, circuit, in_flight, failures, latency, missing]
