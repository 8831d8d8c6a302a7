"""Administering accounts, on SQLite and PostgreSQL: a new person gets a generated password
that works; disabling someone ends their sessions and stops their keys; a reset password
replaces the old one; an administrator cannot lock themselves or everyone out; API keys are
scoped to models and expire; every change is an audit record naming who did it."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import orjson
import pytest

from mamori.accounts.admin import AccountAdministration
from mamori.accounts.service import AccountService
from mamori.domain.principal import Face, Principal, Role
from mamori.errors import ForbiddenError, InvalidRequestError
from mamori.store import Database
from mamori.store.repos import api_keys, audit

pytestmark = pytest.mark.asyncio(loop_scope="session")


def name() -> str:
    return f"a-{uuid.uuid4().hex[:10]}"


async def an_admin(accounts: AccountService) -> Principal:
    user = await accounts.create_user(name(), "correct horse battery staple", [Role.ADMIN])
    return Principal(user.id, user.username, frozenset(user.roles), Face.UI)


def acts_on(db: Database, subject: str) -> list[tuple[str, str, dict[str, str]]]:
    rows = db.read_sync(lambda c: audit.list_audit(c, limit=5000))
    return [
        (r.action, r.username, orjson.loads(r.decisions) if r.decisions else {})
        for _, r in rows[::-1]
        if r.subject == subject
    ]


async def test_a_new_person_signs_in_with_the_generated_password(db: Database) -> None:
    accounts = AccountService(db)
    admin_tool = AccountAdministration(accounts)
    admin = await an_admin(accounts)
    group = await accounts.create_group(name())
    user, password = await admin_tool.create(
        admin, name(), roles=[Role.AUDITOR], display_name="田中", group_names=[group.name]
    )
    assert len(password) >= 16
    assert await accounts.authenticate_password(user.username, password) is not None
    listed = {a.user.username: a for a in await admin_tool.list_accounts(admin)}
    assert [g.name for g in listed[user.username].groups] == [group.name]
    assert listed[user.username].user.roles == {Role.USER, Role.AUDITOR}
    assert acts_on(db, user.username) == [
        ("user.create", admin.username, {"roles": "auditor,user", "groups": group.name})
    ]


async def test_disabling_ends_sessions_and_stops_keys(db: Database) -> None:
    accounts = AccountService(db)
    admin_tool = AccountAdministration(accounts)
    admin = await an_admin(accounts)
    user, password = await admin_tool.create(admin, name(), roles=[])
    row = await accounts.authenticate_password(user.username, password)
    assert row is not None
    token = await accounts.start_session(row)
    key = await admin_tool.create_key(admin, user.username, "script")
    assert await accounts.api_key_principal(key.plaintext) is not None

    await admin_tool.set_disabled(admin, user.username, disabled=True)
    assert await accounts.session_principal(token) is None
    assert await accounts.api_key_principal(key.plaintext) is None
    assert await accounts.authenticate_password(user.username, password) is None
    await admin_tool.set_disabled(admin, user.username, disabled=False)
    assert await accounts.authenticate_password(user.username, password) is not None
    actions = [a for a, _, _ in acts_on(db, user.username)]
    assert actions == ["user.create", "api_key.create", "user.disable", "user.enable"]


async def test_a_reset_password_replaces_the_old_one(db: Database) -> None:
    accounts = AccountService(db)
    admin_tool = AccountAdministration(accounts)
    admin = await an_admin(accounts)
    user, old = await admin_tool.create(admin, name(), roles=[])
    row = await accounts.authenticate_password(user.username, old)
    assert row is not None
    token = await accounts.start_session(row)
    new = await admin_tool.reset_password(admin, user.username)
    assert new != old
    assert await accounts.authenticate_password(user.username, old) is None
    assert await accounts.authenticate_password(user.username, new) is not None
    assert await accounts.session_principal(token) is None


async def test_no_administrator_locks_themselves_or_everyone_out(db: Database) -> None:
    accounts = AccountService(db)
    admin_tool = AccountAdministration(accounts)
    admin = await an_admin(accounts)
    with pytest.raises(ForbiddenError, match="own account"):
        await admin_tool.set_disabled(admin, admin.username, disabled=True)
    with pytest.raises(ForbiddenError, match="own admin role"):
        await admin_tool.set_roles(admin, admin.username, [])
    other, _ = await admin_tool.create(admin, name(), roles=[Role.ADMIN])
    changed = await admin_tool.set_roles(admin, other.username, [Role.AUDITOR])
    assert changed.roles == {Role.USER, Role.AUDITOR}
    assert acts_on(db, other.username)[-1] == (
        "user.roles",
        admin.username,
        {"roles": "auditor,user"},
    )


async def test_only_administrators_administer(db: Database) -> None:
    accounts = AccountService(db)
    admin_tool = AccountAdministration(accounts)
    user = await accounts.create_user(name(), "correct horse battery staple", [])
    clerk = Principal(user.id, user.username, frozenset(user.roles), Face.UI)
    with pytest.raises(ForbiddenError):
        await admin_tool.list_accounts(clerk)
    with pytest.raises(ForbiddenError):
        await admin_tool.create(clerk, name(), roles=[Role.ADMIN])
    with pytest.raises(ForbiddenError):
        await admin_tool.reset_password(clerk, user.username)
    with pytest.raises(ForbiddenError):
        await admin_tool.create_key(clerk, user.username, "mine")


async def test_a_key_is_scoped_to_its_models_and_expires(db: Database) -> None:
    accounts = AccountService(db)
    admin_tool = AccountAdministration(accounts)
    admin = await an_admin(accounts)
    user, _ = await admin_tool.create(admin, name(), roles=[])
    soon = datetime.now(UTC) + timedelta(seconds=1)
    scoped = await admin_tool.create_key(
        admin, user.username, "議事録連携", models=["gpt-oss-120b"], expires_at=soon
    )
    principal = await accounts.api_key_principal(scoped.plaintext)
    assert principal is not None
    assert principal.may_use_model("gpt-oss-120b")
    assert not principal.may_use_model("gemma-3-270m")

    with pytest.raises(InvalidRequestError, match="future"):
        await admin_tool.create_key(admin, user.username, "late", expires_at=soon - timedelta(1))

    # Past the expiry: the key cache must not outlive it.
    await asyncio.sleep((soon - datetime.now(UTC)).total_seconds() + 0.1)
    assert await accounts.api_key_principal(scoped.plaintext) is None
    listing = [k for k in await admin_tool.list_keys(admin) if k.username == user.username]
    assert [k.key.active for k in listing] == [False]


async def test_a_revoked_key_stops_at_once(db: Database) -> None:
    accounts = AccountService(db)
    admin_tool = AccountAdministration(accounts)
    admin = await an_admin(accounts)
    user, _ = await admin_tool.create(admin, name(), roles=[])
    key = await admin_tool.create_key(admin, user.username, "batch")
    assert await accounts.api_key_principal(key.plaintext) is not None  # now cached
    [listing] = [k for k in await admin_tool.list_keys(admin) if k.username == user.username]
    await admin_tool.revoke_key(admin, listing.key.id)
    assert await accounts.api_key_principal(key.plaintext) is None


async def test_a_change_is_undone_when_its_audit_record_cannot_be_written(db: Database) -> None:
    # The console's acts are written in the change's own transaction: a change without its
    # record would be a gap an auditor cannot explain.
    accounts = AccountService(db)
    person = await accounts.create_user(name(), "correct horse battery staple", [Role.USER])
    group = await accounts.create_group(name())

    def fail(*_: object) -> None:
        raise RuntimeError("the audit store is full")

    new_group = name()
    with pytest.raises(RuntimeError):
        await accounts.create_group(new_group, record=fail)
    with pytest.raises(RuntimeError):
        await accounts.set_membership(group.name, person.username, member=True, record=fail)
    with pytest.raises(RuntimeError):
        await accounts.create_api_key(person.username, "k", record=fail)
    listed = {g.name: members for g, members in await accounts.list_groups()}
    assert new_group not in listed and listed[group.name] == []
    assert await db.read(lambda c: api_keys.list_api_keys(c, person.id)) == []
