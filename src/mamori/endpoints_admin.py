"""Endpoints added and removed from the admin console: stored beside the CLI's, recorded in
the audit trail in the same transaction, and in use (or out of it) as soon as the call
returns, because the catalog is refreshed at once rather than at its next round."""

from __future__ import annotations

from mamori.audit.acts import append_act
from mamori.catalog import Catalog
from mamori.domain.endpoint import Endpoint, EndpointSource, display_url
from mamori.domain.principal import Principal
from mamori.errors import ForbiddenError, NotFoundError
from mamori.store.database import Connection
from mamori.store.errors import ConflictError
from mamori.store.repos import endpoints as repo


async def save_endpoint(catalog: Catalog, admin: Principal, endpoint: Endpoint) -> None:
    """Add or replace a stored endpoint; one from mamori.toml or the embedded engine is the
    operator's file's business and cannot be replaced from here."""
    _require_admin(admin)
    if any(e.name == endpoint.name for e in catalog.fixed):
        raise ConflictError(
            f"endpoint {endpoint.name!r} is configured in mamori.toml or is the embedded "
            "engine; change it there"
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
        )

    await catalog.db.write(write)
    await catalog.refresh()


async def remove_endpoint(catalog: Catalog, admin: Principal, name: str) -> None:
    _require_admin(admin)
    if any(e.name == name for e in catalog.fixed):
        raise ConflictError(f"endpoint {name!r} is not one added here; change mamori.toml")

    def write(conn: Connection) -> None:
        if not repo.delete_endpoint(conn, name):
            raise NotFoundError(f"no endpoint {name!r}")
        append_act(conn, admin, "endpoint.remove", name)

    await catalog.db.write(write)
    await catalog.refresh()


def is_stored(endpoint: Endpoint) -> bool:
    return endpoint.source is EndpointSource.CLI


def _require_admin(principal: Principal) -> None:
    if not principal.is_admin:
        raise ForbiddenError("only administrators manage endpoints")
