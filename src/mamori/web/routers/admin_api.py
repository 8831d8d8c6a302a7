"""The admin console's JSON API for people, groups and API keys. Each handler parses and
presents; mamori.accounts.admin decides what is allowed and records every change."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta

from fastapi import APIRouter
from fastapi.responses import Response
from pydantic import BaseModel, Field

from mamori.accounts.admin import Account, KeyListing
from mamori.accounts.authz import require_admin
from mamori.domain.chat import ReasoningEffort
from mamori.domain.principal import Group, Role
from mamori.domain.reasoning import ReasoningDisplay
from mamori.errors import InvalidRequestError
from mamori.settings import ClassificationName
from mamori.web.deps import ServicesDep, SessionDep
from mamori.web.responses import Json

router = APIRouter(prefix="/api/admin")


class NewUser(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    display_name: str | None = Field(default=None, max_length=200)
    roles: list[Role] = Field(default_factory=list, max_length=3)
    groups: list[str] = Field(default_factory=list, max_length=50)


class Disabled(BaseModel):
    disabled: bool


class Roles(BaseModel):
    roles: list[Role] = Field(max_length=3)


class NewGroup(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    display_name: str | None = Field(default=None, max_length=200)
    default_classification: ClassificationName | None = None


class GroupPolicy(BaseModel):
    default_classification: ClassificationName | None = None
    reasoning_display: ReasoningDisplay | None = None
    max_reasoning_effort: ReasoningEffort | None = None


class NewKey(BaseModel):
    username: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    # Empty: every model its owner may use.
    models: list[str] = Field(default_factory=list, max_length=50)
    # The last day the key works (through the end of that day, UTC); unset: until revoked.
    expires_on: date | None = None


def account_json(account: Account) -> dict[str, object]:
    u = account.user
    return {
        "username": u.username,
        "display_name": u.display_name,
        "roles": sorted(r.value for r in u.roles),
        "disabled": u.disabled,
        "groups": [g.name for g in account.groups],
        "created_at": u.created_at.isoformat(),
    }


def group_json(group: Group, members: list[str]) -> dict[str, object]:
    label = group.default_classification
    return {
        "id": group.id,
        "name": group.name,
        "display_name": group.display_name,
        "default_classification": int(label) if label is not None else None,
        "reasoning_display": group.reasoning_display.value if group.reasoning_display else None,
        "max_reasoning_effort": group.max_reasoning_effort,
        "members": members,
    }


def key_json(listing: KeyListing) -> dict[str, object]:
    k = listing.key
    return {
        "id": k.id,
        "name": k.name,
        "username": listing.username,
        "prefix": k.prefix,
        "models": list(k.models) if k.models is not None else None,
        "expires_at": k.expires_at.isoformat() if k.expires_at else None,
        "created_at": k.created_at.isoformat(),
        "last_used_at": k.last_used_at.isoformat() if k.last_used_at else None,
        "revoked_at": k.revoked_at.isoformat() if k.revoked_at else None,
        "active": k.active,
    }


# ── people ─────────────────────────────────────────────────────────────────────────────────
@router.get("/users")
async def list_users(session: SessionDep, services: ServicesDep) -> Json:
    accounts = await services.account_admin.list_accounts(session.principal)
    return Json({"users": [account_json(a) for a in accounts]})


@router.post("/users", status_code=201)
async def create_user(body: NewUser, session: SessionDep, services: ServicesDep) -> Json:
    user, password = await services.account_admin.create(
        session.principal,
        body.username.strip(),
        roles=body.roles,
        display_name=body.display_name,
        group_names=body.groups,
    )
    # The only time the password is shown; it is not kept anywhere but as its hash.
    return Json({"username": user.username, "password": password}, status_code=201)


@router.put("/users/{username}/disabled")
async def set_disabled(
    username: str, body: Disabled, session: SessionDep, services: ServicesDep
) -> Json:
    user = await services.account_admin.set_disabled(
        session.principal, username, disabled=body.disabled
    )
    return Json({"username": user.username, "disabled": user.disabled})


@router.post("/users/{username}/password")
async def reset_password(username: str, session: SessionDep, services: ServicesDep) -> Json:
    password = await services.account_admin.reset_password(session.principal, username)
    return Json({"username": username, "password": password})


@router.put("/users/{username}/roles")
async def set_roles(username: str, body: Roles, session: SessionDep, services: ServicesDep) -> Json:
    user = await services.account_admin.set_roles(session.principal, username, body.roles)
    return Json({"username": user.username, "roles": sorted(r.value for r in user.roles)})


# ── groups ─────────────────────────────────────────────────────────────────────────────────
@router.get("/groups")
async def list_groups(session: SessionDep, services: ServicesDep) -> Json:
    require_admin(session.principal, "only administrators manage accounts")
    listed = await services.accounts.list_groups()
    return Json({"groups": [group_json(g, members) for g, members in listed]})


@router.post("/groups", status_code=201)
async def create_group(body: NewGroup, session: SessionDep, services: ServicesDep) -> Json:
    group = await services.account_admin.create_group(
        session.principal,
        body.name.strip(),
        display_name=body.display_name,
        default_classification=body.default_classification,
    )
    return Json(group_json(group, []), status_code=201)


@router.put("/groups/{name}/policy", status_code=204)
async def set_group_policy(
    name: str, body: GroupPolicy, session: SessionDep, services: ServicesDep
) -> Response:
    await services.account_admin.set_group_policy(
        session.principal,
        name,
        default_classification=body.default_classification,
        reasoning_display=body.reasoning_display,
        max_reasoning_effort=body.max_reasoning_effort,
    )
    return Response(status_code=204)


@router.put("/groups/{name}/members/{username}", status_code=204)
async def add_member(
    name: str, username: str, session: SessionDep, services: ServicesDep
) -> Response:
    await services.account_admin.set_membership(session.principal, name, username, member=True)
    return Response(status_code=204)


@router.delete("/groups/{name}/members/{username}", status_code=204)
async def remove_member(
    name: str, username: str, session: SessionDep, services: ServicesDep
) -> Response:
    await services.account_admin.set_membership(session.principal, name, username, member=False)
    return Response(status_code=204)


# ── API keys ───────────────────────────────────────────────────────────────────────────────
@router.get("/keys")
async def list_keys(session: SessionDep, services: ServicesDep) -> Json:
    keys = await services.account_admin.list_keys(session.principal)
    return Json({"keys": [key_json(k) for k in keys]})


@router.post("/keys", status_code=201)
async def create_key(body: NewKey, session: SessionDep, services: ServicesDep) -> Json:
    expires_at = None
    if body.expires_on is not None:
        expires_at = datetime.combine(body.expires_on, time.min, tzinfo=UTC) + timedelta(days=1)
    unknown = sorted(m for m in set(body.models) if services.registry.model(m) is None)
    if unknown:
        raise InvalidRequestError(f"no model named {unknown[0]!r}")
    new = await services.account_admin.create_key(
        session.principal,
        body.username,
        body.name,
        models=body.models,
        expires_at=expires_at,
    )
    return Json(
        {
            "key": new.plaintext,
            "prefix": new.prefix,
            "expires_at": expires_at.isoformat() if expires_at else None,
        },
        status_code=201,
    )


@router.delete("/keys/{key_id}", status_code=204)
async def revoke_key(key_id: str, session: SessionDep, services: ServicesDep) -> Response:
    await services.account_admin.revoke_key(session.principal, key_id)
    return Response(status_code=204)
