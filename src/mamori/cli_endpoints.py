"""`mamori endpoints add | remove | list | test`: the engines mamori may send turns to."""

from __future__ import annotations

import sys
from collections.abc import Sequence

import click

from mamori.cli_support import _database, _run, _settings, all_endpoints
from mamori.domain.classification import Classification
from mamori.domain.endpoint import (
    Endpoint,
    EndpointSource,
    EndpointTrust,
    Residency,
    assessment,
    display_url,
)
from mamori.errors import MamoriError
from mamori.gateway.connection_check import chat_check
from mamori.gateway.dialects import DIALECTS, get_dialect
from mamori.gateway.openai_compat import backend_factory, make_http_client
from mamori.gateway.registry import EndpointHealth, EndpointRegistry
from mamori.settings import Settings
from mamori.store.repos import endpoints

HEADERS = (
    "NAME",
    "SOURCE",
    "RESIDENCY",
    "TRUST",
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
        trust_summary(endpoint),
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


def trust_summary(endpoint: Endpoint) -> str:
    """E.g. "<=c2,contract,no-training", or "assumed:<=c1,tos,trains" for an unassessed one."""
    trust = endpoint.trust
    parts = [
        f"<=c{int(trust.max_classification)}" if trust.max_classification else "<=public",
        "tos" if trust.terms_of_service else "contract",
        "trains" if trust.trains_on_inputs else "no-training",
    ]
    if trust.approved_for_masked:
        parts.append("masked-ok")
    prefix = "" if endpoint.assessed_trust else "assumed:"
    return prefix + ",".join(parts)


@click.group("endpoints")
def endpoints_group() -> None:
    """Manage inference endpoints."""


@endpoints_group.command("add")
@click.argument("name")
@click.option(
    "--url",
    required=True,
    help="Base URL ending in /v1, e.g. http://gpu1:8000/v1; "
    "for ollama_native, Ollama's root, e.g. http://host:11434",
)
@click.option("--dialect", type=click.Choice(sorted(DIALECTS)), default="openai", show_default=True)
@click.option("--residency", type=click.Choice([r.value for r in Residency]), required=True)
@click.option(
    "--model",
    "models",
    multiple=True,
    required=True,
    help="Model served, as NAME or NAME=UPSTREAM_NAME. Repeatable.",
)
@click.option("--api-key-env", default=None, help="Environment variable holding the upstream key.")
@click.option(
    "--max-classification",
    default=None,
    help="Assessed: the highest class it may receive (公開, 機密性1-3 or public, c1-c3). "
    "Without it the endpoint is unassessed and gets the residency's cautious default.",
)
@click.option(
    "--trains-on-inputs/--no-training",
    default=None,
    help="Unset: assumed for a cloud endpoint, not for an on-prem one.",
)
@click.option(
    "--terms-of-service/--contract",
    default=None,
    help="約款型 (generic terms of service) or a negotiated contract. Unset: 約款型 is assumed "
    "for a cloud endpoint, not for an on-prem one.",
)
@click.option("--approved-for-masked", is_flag=True, help="May receive pseudonymised text.")
def endpoints_add(
    name: str,
    url: str,
    dialect: str,
    residency: str,
    models: tuple[str, ...],
    api_key_env: str | None,
    max_classification: str | None,
    trains_on_inputs: bool | None,
    terms_of_service: bool | None,
    approved_for_masked: bool,
) -> None:
    """Add or replace endpoint NAME, with the organisation's assessment of what it may hold."""
    if not url.startswith(("http://", "https://")):
        raise click.ClickException("--url must start with http:// or https://")
    mapping = {}
    for item in models:
        public, _, upstream = item.partition("=")
        mapping[public] = upstream or public
    endpoint = Endpoint(
        name=name,
        base_url=url.rstrip("/"),
        dialect=get_dialect(dialect).name,
        residency=Residency(residency),
        models=mapping,
        api_key_env=api_key_env,
        source=EndpointSource.CLI,
        assessed_trust=_assessment(
            Residency(residency),
            max_classification,
            trains_on_inputs=trains_on_inputs,
            terms_of_service=terms_of_service,
            approved_for_masked=approved_for_masked,
        ),
    )
    db = _database(_settings())
    db.write_sync(lambda c: endpoints.save_endpoint(c, endpoint))
    click.echo(f"saved endpoint {name} ({residency}, {dialect}) serving {', '.join(mapping)}")


@endpoints_group.command("remove")
@click.argument("name")
def endpoints_remove(name: str) -> None:
    """Remove endpoint NAME (only endpoints added with the CLI)."""
    db = _database(_settings())
    if not db.write_sync(lambda c: endpoints.delete_endpoint(c, name)):
        raise click.ClickException(f"no endpoint {name!r} added by the CLI")
    click.echo(f"removed {name}")


@endpoints_group.command("list")
@click.option("--no-probe", is_flag=True, help="Do not contact the engines.")
@click.option("--timeout", default=3.0, show_default=True, type=float, help="Seconds per probe.")
def endpoints_list(no_probe: bool, timeout: float) -> None:
    """List endpoints from mamori.toml and the CLI, with each engine's health.

    Every engine is asked for its model list at once, as the server's health checks do.
    """
    settings = _settings()
    rows = all_endpoints(settings, _database(settings))
    if not rows:
        click.echo("no endpoints configured (the embedded engine is added at `mamori serve`)")
        return
    health = None
    if not no_probe:
        probing = probe_endpoints(rows, connect_timeout=settings.connect_timeout, timeout=timeout)
        health = _run(probing)
    click.echo(endpoint_table(rows, health))


@endpoints_group.command("test")
@click.argument("name")
def endpoints_test(name: str) -> None:
    """Check that endpoint NAME answers: list its models, then stream a short reply."""
    settings = _settings()
    found = [e for e in all_endpoints(settings, _database(settings)) if e.name == name]
    if not found:
        raise click.ClickException(f"no endpoint {name!r}")
    ok = _run(_test_endpoint(found[0], settings))
    if not ok:
        sys.exit(1)


async def _test_endpoint(endpoint: Endpoint, settings: Settings) -> bool:
    client = make_http_client(connect_timeout=settings.connect_timeout)
    backend = backend_factory(client, first_byte_timeout=30.0, idle_timeout=30.0)(endpoint)
    try:
        try:
            models = await backend.list_models()
        except MamoriError as exc:
            click.echo(f"FAILED: {exc.code}: {exc.message}", err=True)
            return False
        click.echo(f"models: {', '.join(models) or '(none listed)'}")
        check = await chat_check(backend, endpoint)
        if not check.ok:
            click.echo(f"FAILED: {check.error_code}: {check.error}", err=True)
            return False
        ttft = f"{check.first_token_ms:.0f} ms" if check.first_token_ms is not None else "n/a"
        click.echo(f"chat: ok, first token {ttft}, total {check.total_ms:.0f} ms: {check.text!r}")
        return True
    finally:
        await backend.aclose()
        await client.close()


def _assessment(
    residency: Residency,
    max_classification: str | None,
    *,
    trains_on_inputs: bool | None,
    terms_of_service: bool | None,
    approved_for_masked: bool,
) -> EndpointTrust | None:
    if max_classification is None:
        return None
    try:
        ceiling = Classification.parse(max_classification)
    except ValueError as exc:
        raise click.BadParameter(str(exc), param_hint="--max-classification") from exc
    return assessment(
        residency,
        ceiling,
        trains_on_inputs=trains_on_inputs,
        terms_of_service=terms_of_service,
        approved_for_masked=approved_for_masked,
    )
