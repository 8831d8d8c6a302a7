"""Endpoints and models added at run time (``mamori endpoints add``), as opposed to mamori.toml."""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import Connection, RowMapping, select

from mamori.domain.classification import Classification
from mamori.domain.endpoint import Endpoint, EndpointSource, EndpointTrust, ModelInfo, Residency
from mamori.store.repos._common import utcnow
from mamori.store.tables import endpoint_models, endpoints, models


def save_endpoint(conn: Connection, endpoint: Endpoint, *, enabled: bool = True) -> None:
    """Insert or replace an endpoint and its model mapping.

    Each model it serves gets a bare ``models`` row if it has none, so the model is listed at
    once; an existing row is left alone because an admin may have described it.
    """
    fields = {
        "base_url": endpoint.base_url,
        "dialect": endpoint.dialect,
        "residency": endpoint.residency.value,
        "api_key_env": endpoint.api_key_env,
        "enabled": enabled,
        **_trust_columns(endpoint.assessed_trust),
    }
    exists = conn.execute(select(endpoints.c.name).where(endpoints.c.name == endpoint.name)).first()
    if exists:
        conn.execute(endpoints.update().where(endpoints.c.name == endpoint.name).values(**fields))
    else:
        conn.execute(endpoints.insert().values(name=endpoint.name, created_at=utcnow(), **fields))

    conn.execute(endpoint_models.delete().where(endpoint_models.c.endpoint_name == endpoint.name))
    if endpoint.models:
        conn.execute(
            endpoint_models.insert(),
            [
                {"endpoint_name": endpoint.name, "model_name": m, "upstream_model": upstream}
                for m, upstream in endpoint.models.items()
            ],
        )
        known = set(
            conn.execute(
                select(models.c.name).where(models.c.name.in_(list(endpoint.models)))
            ).scalars()
        )
        missing = sorted(endpoint.models.keys() - known)
        if missing:
            conn.execute(models.insert(), [_bare_model(name) for name in missing])


def delete_endpoint(conn: Connection, name: str) -> bool:
    """Its model mapping goes with it (cascade); the models' descriptions stay."""
    return conn.execute(endpoints.delete().where(endpoints.c.name == name)).rowcount > 0


def list_endpoints(conn: Connection, *, include_disabled: bool = False) -> list[Endpoint]:
    query = select(endpoints).order_by(endpoints.c.name)
    if not include_disabled:
        query = query.where(endpoints.c.enabled.is_(True))
    mapping: dict[str, dict[str, str]] = defaultdict(dict)
    for name, model, upstream in conn.execute(
        select(
            endpoint_models.c.endpoint_name,
            endpoint_models.c.model_name,
            endpoint_models.c.upstream_model,
        ).order_by(endpoint_models.c.endpoint_name, endpoint_models.c.model_name)
    ):
        mapping[name][model] = upstream
    return [
        Endpoint(
            name=row["name"],
            base_url=row["base_url"],
            dialect=row["dialect"],
            residency=Residency(row["residency"]),
            models=mapping.get(row["name"], {}),
            api_key_env=row["api_key_env"],
            source=EndpointSource.CLI,
            assessed_trust=_trust_of(row),
        )
        for row in conn.execute(query).mappings()
    ]


def _trust_columns(trust: EndpointTrust | None) -> dict[str, object]:
    if trust is None:
        return dict.fromkeys(_TRUST_COLUMNS)
    return {
        "max_classification": int(trust.max_classification),
        "trains_on_inputs": trust.trains_on_inputs,
        "terms_of_service": trust.terms_of_service,
        "approved_for_masked": trust.approved_for_masked,
    }


_TRUST_COLUMNS = (
    "max_classification",
    "trains_on_inputs",
    "terms_of_service",
    "approved_for_masked",
)


def _trust_of(row: RowMapping) -> EndpointTrust | None:
    if row["max_classification"] is None:
        return None
    return EndpointTrust(
        residency=Residency(row["residency"]),
        max_classification=Classification(row["max_classification"]),
        # A half-filled assessment reads the missing flags the cautious way.
        trains_on_inputs=row["trains_on_inputs"] is not False,
        terms_of_service=row["terms_of_service"] is not False,
        approved_for_masked=bool(row["approved_for_masked"]),
    )


def _bare_model(name: str) -> dict[str, object]:
    return {
        "name": name,
        "display_name": name,
        "supports_reasoning_effort": False,
        "default_reasoning_effort": None,
        "context_length": None,
        "description_ja": "",
        "description_en": "",
    }


def save_model(
    conn: Connection,
    *,
    name: str,
    display_name: str,
    supports_reasoning_effort: bool = False,
    default_reasoning_effort: str | None = None,
    context_length: int | None = None,
    description_ja: str = "",
    description_en: str = "",
) -> None:
    """Insert or replace a model's description. Which endpoints serve it is not stored here."""
    fields = {
        "display_name": display_name,
        "supports_reasoning_effort": supports_reasoning_effort,
        "default_reasoning_effort": default_reasoning_effort,
        "context_length": context_length,
        "description_ja": description_ja,
        "description_en": description_en,
    }
    result = conn.execute(models.update().where(models.c.name == name).values(**fields))
    if result.rowcount == 0:
        conn.execute(models.insert().values(name=name, **fields))


def list_models(conn: Connection) -> dict[str, ModelInfo]:
    """Every stored model with the enabled stored endpoints serving it, in name order."""
    served: dict[str, list[str]] = defaultdict(list)
    for model, endpoint in conn.execute(
        select(endpoint_models.c.model_name, endpoint_models.c.endpoint_name)
        .join(endpoints, endpoints.c.name == endpoint_models.c.endpoint_name)
        .where(endpoints.c.enabled.is_(True))
        .order_by(endpoint_models.c.endpoint_name)
    ):
        served[model].append(endpoint)
    return {
        row["name"]: ModelInfo(
            name=row["name"],
            display_name=row["display_name"],
            endpoints=tuple(served.get(row["name"], ())),
            supports_reasoning_effort=bool(row["supports_reasoning_effort"]),
            default_reasoning_effort=row["default_reasoning_effort"],
            context_length=row["context_length"],
            description_ja=row["description_ja"],
            description_en=row["description_en"],
        )
        for row in conn.execute(select(models).order_by(models.c.name)).mappings()
    }
