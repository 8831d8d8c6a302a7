"""`mamori serve | users | groups | keys | endpoints | db` — the operator's command line."""

from __future__ import annotations

import gc
import getpass
import sys
import time
from typing import Any

import click

from mamori.accounts.credentials import generate_password
from mamori.accounts.service import AccountService
from mamori.catalog import configured_endpoints
from mamori.cli_endpoints import endpoint_table, probe_endpoints
from mamori.cli_groups import groups_group
from mamori.cli_policy import policy_group
from mamori.cli_support import _database, _run, _settings
from mamori.domain.chat import (
    ChatMessage,
    ContentDelta,
    ReasoningDelta,
    SamplingOptions,
    UpstreamRequest,
)
from mamori.domain.endpoint import Endpoint, EndpointSource, Residency
from mamori.domain.principal import Role
from mamori.errors import MamoriError
from mamori.gateway.dialects import DIALECTS, get_dialect
from mamori.gateway.openai_compat import backend_factory, make_http_client
from mamori.settings import Settings
from mamori.store.database import Connection, Database
from mamori.store.repos import api_keys, endpoints, sessions, users


@click.group()
def main() -> None:
    """mamori (守り): a sovereign generative-AI workspace."""


main.add_command(groups_group)
main.add_command(policy_group)


@main.command()
@click.option("--host", default=None, help="Address to listen on (default 127.0.0.1).")
@click.option("--port", default=None, type=int, help="Port to listen on (default 8080).")
def serve(host: str | None, port: int | None) -> None:
    """Run the web workspace and the OpenAI-compatible API."""
    import uvicorn

    from mamori.app import create_app
    from mamori.logging_setup import configure_logging

    overrides: dict[str, Any] = {}
    if host is not None:
        overrides["host"] = host
    if port is not None:
        overrides["port"] = port
    try:
        settings = Settings(**overrides)
    except Exception as exc:
        raise click.ClickException(f"invalid settings: {exc}") from exc
    configure_logging(settings.log_level, settings.log_json)
    # Streaming allocates many short-lived objects; with the default threshold the collector
    # runs hundreds of times a second and full collections pause every stream at once.
    gc.set_threshold(50_000, 20, 100)
    # The database writer thread must not hold the event loop off for the default 5 ms.
    sys.setswitchinterval(0.001)
    url = f"http://{settings.host}:{settings.port}/"
    click.echo(
        f"mamori: starting. When ready, open {url} (起動後にブラウザで開いてください)", err=True
    )
    try:
        uvicorn.run(
            create_app(settings),
            host=settings.host,
            port=settings.port,
            loop="uvloop",
            http="httptools",
            access_log=False,
            log_config=None,
            timeout_graceful_shutdown=5,
        )
    except MamoriError as exc:
        raise click.ClickException(exc.message) from exc


# --- users -------------------------------------------------------------------------------------


@main.group("users")
def users_group() -> None:
    """Manage accounts."""


def _read_password() -> tuple[str, bool]:
    """From stdin when piped; otherwise ask, and generate one if the answer is empty."""
    if not sys.stdin.isatty():
        line = sys.stdin.readline().rstrip("\r\n")
        if line:
            return line, False
        return generate_password(), True
    first = getpass.getpass("Password (empty: generate one) / パスワード（空欄で自動生成）: ")
    if not first:
        return generate_password(), True
    if getpass.getpass("Repeat / もう一度: ") != first:
        raise click.ClickException("passwords do not match")
    return first, False


@users_group.command("create")
@click.argument("name")
@click.option("--admin", is_flag=True, help="Give the administrator role.")
@click.option("--auditor", is_flag=True, help="Give the auditor role.")
def users_create(name: str, admin: bool, auditor: bool) -> None:
    """Create account NAME. The password is read from stdin, or generated and printed once."""
    settings = _settings()
    password, generated = _read_password()
    roles = [r for r, on in ((Role.ADMIN, admin), (Role.AUDITOR, auditor)) if on]
    db = _database(settings)
    _run(AccountService(db).create_user(name, password, roles))
    click.echo(f"created user {name} ({', '.join(r.value for r in roles) or 'user'})")
    if generated:
        click.echo(f"password (shown once / 一度だけ表示): {password}")


@users_group.command("set-password")
@click.argument("name")
def users_set_password(name: str) -> None:
    """Set a new password for NAME (read from stdin, or generated and printed once)."""
    from mamori.accounts.credentials import check_password_strength, hash_password

    settings = _settings()
    password, generated = _read_password()
    if problem := check_password_strength(password):
        raise click.ClickException(problem)
    db = _database(settings)
    user = db.read_sync(lambda c: users.get_user_by_username(c, name))
    if user is None:
        raise click.ClickException(f"no user named {name!r}")
    new_hash = hash_password(password)

    def write(conn: Connection) -> None:
        users.set_password_hash(conn, user.id, new_hash)
        # Whoever signed in with the old password is signed out.
        sessions.delete_user_sessions(conn, user.id)

    db.write_sync(write)
    click.echo(f"password updated for {name}; existing sessions ended")
    if generated:
        click.echo(f"password (shown once / 一度だけ表示): {password}")


@users_group.command("list")
def users_list() -> None:
    """List accounts."""
    db = _database(_settings())
    for user in db.read_sync(users.list_users):
        state = " (disabled)" if user.disabled else ""
        click.echo(f"{user.username}\t{','.join(sorted(user.roles))}{state}")


# --- API keys ----------------------------------------------------------------------------------


@main.group("keys")
def keys_group() -> None:
    """Manage API keys for the OpenAI-compatible /v1 API."""


@keys_group.command("create")
@click.argument("username")
@click.option("--name", "label", default="default", help="A label to tell keys apart.")
def keys_create(username: str, label: str) -> None:
    """Create an API key for USERNAME. It is printed once; only its hash is stored."""
    db = _database(_settings())
    new = _run(AccountService(db).create_api_key(username, label))
    click.echo(new.plaintext)
    click.echo("(shown once; store it safely / 一度だけ表示されます)", err=True)


@keys_group.command("list")
def keys_list() -> None:
    """List API keys (prefixes only)."""
    db = _database(_settings())
    for key in db.read_sync(lambda c: api_keys.list_api_keys(c)):
        state = "revoked" if key.revoked_at else "active"
        click.echo(f"{key.id}\t{key.prefix}…\t{key.name}\t{state}")


@keys_group.command("revoke")
@click.argument("key_id")
def keys_revoke(key_id: str) -> None:
    """Revoke the key with id KEY_ID (see `mamori keys list`)."""
    db = _database(_settings())
    if not db.write_sync(lambda c: api_keys.revoke_api_key(c, key_id)):
        raise click.ClickException(f"no active key {key_id}")
    click.echo("revoked (running servers stop accepting it within 30 s)")


# --- endpoints ---------------------------------------------------------------------------------


@main.group("endpoints")
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
def endpoints_add(
    name: str,
    url: str,
    dialect: str,
    residency: str,
    models: tuple[str, ...],
    api_key_env: str | None,
) -> None:
    """Add or replace endpoint NAME."""
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


def _all_endpoints(settings: Settings, db: Database) -> list[Endpoint]:
    stored = db.read_sync(endpoints.list_endpoints)
    configured = configured_endpoints(settings)
    names = {e.name for e in configured}
    return [*configured, *(e for e in stored if e.name not in names)]


@endpoints_group.command("list")
@click.option("--no-probe", is_flag=True, help="Do not contact the engines.")
@click.option("--timeout", default=3.0, show_default=True, type=float, help="Seconds per probe.")
def endpoints_list(no_probe: bool, timeout: float) -> None:
    """List endpoints from mamori.toml and the CLI, with each engine's health.

    Every engine is asked for its model list at once, as the server's health checks do.
    """
    settings = _settings()
    rows = _all_endpoints(settings, _database(settings))
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
    found = [e for e in _all_endpoints(settings, _database(settings)) if e.name == name]
    if not found:
        raise click.ClickException(f"no endpoint {name!r}")
    ok = _run(_test_endpoint(found[0], settings))
    if not ok:
        sys.exit(1)


async def _test_endpoint(endpoint: Endpoint, settings: Settings) -> bool:
    client = make_http_client(connect_timeout=settings.connect_timeout)
    backend = backend_factory(client, first_byte_timeout=30.0, idle_timeout=30.0)(endpoint)
    try:
        models = await backend.list_models()
        click.echo(f"models: {', '.join(models) or '(none listed)'}")
        model = next(iter(endpoint.models.values()))
        request = UpstreamRequest(
            upstream_model=model,
            messages=(ChatMessage(role="user", content="Reply with the single word: OK"),),
            sampling=SamplingOptions(max_tokens=16),
        )
        started = time.perf_counter()
        first: float | None = None
        text: list[str] = []
        async for event in backend.stream(request):
            if isinstance(event, ContentDelta | ReasoningDelta) and first is None:
                first = time.perf_counter()
            if isinstance(event, ContentDelta):
                text.append(event.text)
        total = time.perf_counter() - started
        ttft = f"{(first - started) * 1000:.0f} ms" if first else "n/a"
        click.echo(f"chat: ok, first token {ttft}, total {total * 1000:.0f} ms: {''.join(text)!r}")
        return True
    except MamoriError as exc:
        click.echo(f"FAILED: {exc.code}: {exc.message}", err=True)
        return False
    finally:
        await backend.aclose()
        await client.close()


@main.group("db")
def db_group() -> None:
    """Database maintenance."""


@db_group.command("upgrade")
def db_upgrade() -> None:
    """Apply database migrations (mamori serve also does this on start)."""
    _database(_settings())
    click.echo("database is up to date")
