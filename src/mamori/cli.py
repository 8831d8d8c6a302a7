"""`mamori serve | users | groups | keys | endpoints | policy | guard | audit | db`: the CLI."""

from __future__ import annotations

import gc
import getpass
import sys
from typing import Any

import click

from mamori.accounts.credentials import generate_password
from mamori.accounts.service import AccountService
from mamori.cli_audit import audit_group
from mamori.cli_endpoints import endpoints_group
from mamori.cli_groups import groups_group
from mamori.cli_guard import guard_group
from mamori.cli_kb import kb_group
from mamori.cli_offline import offline_report
from mamori.cli_policy import policy_group
from mamori.cli_support import _database, _run, _settings
from mamori.cli_usage import quota_group, usage_group
from mamori.domain.principal import Role
from mamori.errors import MamoriError
from mamori.policy.sovereignty_file import load_configured_policy
from mamori.settings import Settings
from mamori.store.database import Connection
from mamori.store.repos import api_keys, sessions, users


@click.group()
def main() -> None:
    """mamori (守り): a sovereign generative-AI workspace."""


main.add_command(groups_group)
main.add_command(audit_group)
main.add_command(usage_group)
main.add_command(quota_group)
main.add_command(guard_group)
main.add_command(endpoints_group)
main.add_command(policy_group)
main.add_command(kb_group)


@main.command()
@click.option("--host", default=None, help="Address to listen on (default 127.0.0.1).")
@click.option("--port", default=None, type=int, help="Port to listen on (default 8080).")
@click.option(
    "--offline-check",
    is_flag=True,
    help="Print every host mamori could ever contact, then exit without serving.",
)
def serve(host: str | None, port: int | None, offline_check: bool) -> None:
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
    try:
        # Checked here too, so the operator reads the file and line rather than a traceback.
        load_configured_policy(settings.policy_file)
    except MamoriError as exc:
        raise click.ClickException(exc.message) from exc
    if offline_check:
        click.echo(offline_report(settings))
        return
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
            # Longer than clients keep idle connections (httpx and so the OpenAI SDK: 5 s,
            # as uvicorn's own default): the client, not the server, then closes an idle one,
            # and no request is sent on a socket the server is just closing.
            timeout_keep_alive=75,
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


@main.group("db")
def db_group() -> None:
    """Database maintenance."""


@db_group.command("upgrade")
def db_upgrade() -> None:
    """Apply database migrations (mamori serve also does this on start)."""
    _database(_settings())
    click.echo("database is up to date")
