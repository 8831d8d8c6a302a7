"""Endpoints added and removed from the admin console: stored beside the CLI's, recorded in
the audit trail in the same transaction, and in use (or out of it) as soon as the call
returns, because the catalog is refreshed at once rather than at its next round."""

from __future__ import annotations

from mamori.accounts.authz import require_admin
from mamori.audit.acts import append_act
from mamori.catalog import Catalog
from mamori.domain.endpoint import Endpoint, display_url
from mamori.domain.principal import Principal
from mamori.errors import InvalidRequestError, NotFoundError
from mamori.store.database import Connection
from mamori.store.errors import ConflictError
from mamori.store.repos import endpoints as repo

ADMINS_ONLY = "only administrators manage endpoints"

# The backend sends the named variable's value as the engine's bearer key, to the endpoint's
# own URL. Were any name allowed, an administrator could have the server send its database
# URL or session secret to a host of their choosing. So the console may name only variables
# the operator has set aside for engine keys; mamori.toml and the CLI, which only the
# operator reaches, may name any.
CONSOLE_KEY_VARIABLE_PREFIX = "MAMORI_ENGINE_KEY_"


async def save_endpoint(catalog: Catalog, admin: Principal, endpoint: Endpoint) -> None:
    """Add or replace a stored endpoint; one from mamori.toml or the embedded engine is the
    operator's file's business and cannot be replaced from here."""
    require_admin(admin, ADMINS_ONLY)
    if any(e.name == endpoint.name for e in catalog.fixed):
        raise ConflictError(
            f"endpoint {endpoint.name!r} is configured in mamori.toml or is the embedded "
            "engine; change it there"
        )
    key_variable = endpoint.api_key_env
    if key_variable is not None and not _is_engine_key_variable(key_variable):
        raise InvalidRequestError(
            f"the key variable must be named {CONSOLE_KEY_VARIABLE_PREFIX}<something>",
            code="engine_key_variable_not_allowed",
        )

    def write(conn: Connection) -> None:
        repo.save_endpoint(conn, endpoint)
        trust = endpoint.trust
        append_act(
            conn,
            admin,
            "endpoint.save",
            endpoint.name,
            url=display_url(endpoint.base_url),
            residency=endpoint.residency.value,
            models=",".join(sorted(endpoint.models)),
            max_classification=str(int(trust.max_classification)),
            assessed=str(endpoint.assessed_trust is not None).lower(),
            # The variable's name, never its value: which secret this endpoint is sent.
            **({"api_key_env": key_variable} if key_variable else {}),
        )

    await catalog.db.write(write)
    await catalog.refresh()


async def remove_endpoint(catalog: Catalog, admin: Principal, name: str) -> None:
    require_admin(admin, ADMINS_ONLY)
    if any(e.name == name for e in catalog.fixed):
        raise ConflictError(f"endpoint {name!r} is not one added here; change mamori.toml")

    def write(conn: Connection) -> None:
        if not repo.delete_endpoint(conn, name):
            raise NotFoundError(f"no endpoint {name!r}")
        append_act(conn, admin, "endpoint.remove", name)

    await catalog.db.write(write)
    await catalog.refresh()


def _is_engine_key_variable(name: str) -> bool:
    return name.startswith(CONSOLE_KEY_VARIABLE_PREFIX) and len(name) > len(
        CONSOLE_KEY_VARIABLE_PREFIX
    )
