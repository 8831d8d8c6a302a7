"""`mamori endpoints list`: the endpoint table, probed the way the server's health checks do."""

from __future__ import annotations

from collections.abc import Sequence
from urllib.parse import urlsplit, urlunsplit

from mamori.domain.endpoint import Endpoint
from mamori.gateway.openai_compat import backend_factory, make_http_client
from mamori.gateway.registry import EndpointHealth, EndpointRegistry

HEADERS = (
    "NAME",
    "SOURCE",
    "RESIDENCY",
    "DIALECT",
    "URL",
    "MODELS",
    "STATUS",
    "LATENCY",
    "ENGINE LISTS",
    "ERROR",
)


async def probe_endpoints(
    endpoints: Sequence[Endpoint], *, connect_timeout: float, timeout: float
) -> dict[str, EndpointHealth]:
    """One probe per endpoint, all at once, each bounded by ``timeout``."""
    client = make_http_client(connect_timeout=min(connect_timeout, timeout))
    factory = backend_factory(client, first_byte_timeout=timeout, idle_timeout=timeout)
    registry = EndpointRegistry(factory)
    try:
        await registry.replace(endpoints, {})
        return {h.name: h for h in await registry.probe_all(timeout=timeout)}
    finally:
        await registry.aclose()
        await client.close()


def endpoint_table(endpoints: Sequence[Endpoint], health: dict[str, EndpointHealth] | None) -> str:
    """A plain-text table; without ``health`` (``--no-probe``) the probe columns show "-"."""
    rows = [HEADERS, *(_row(e, health.get(e.name) if health else None) for e in endpoints)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(HEADERS))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in rows]
    return "\n".join(line.rstrip() for line in lines)


def _row(endpoint: Endpoint, probe: EndpointHealth | None) -> tuple[str, ...]:
    configured = ", ".join(
        public if public == upstream else f"{public}={upstream}"
        for public, upstream in endpoint.models.items()
    )
    fixed = (
        endpoint.name,
        endpoint.source.value,
        endpoint.residency.value,
        endpoint.dialect,
        display_url(endpoint.base_url),
        configured,
    )
    if probe is None:
        return (*fixed, "-", "-", "-", "-")
    status = "reachable" if probe.reachable else "unreachable"
    latency = f"{probe.latency * 1000:.0f} ms" if probe.latency is not None else "-"
    listed = ", ".join(probe.models) if probe.reachable else "-"
    problems = [probe.error] if probe.error else []
    if probe.missing:
        problems.append(f"not listed: {', '.join(probe.missing)}")
    return (*fixed, status, latency, listed or "(none)", "; ".join(problems) or "-")


def display_url(url: str) -> str:
    """``url`` without user information: a URL with credentials in it must not be printed."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
