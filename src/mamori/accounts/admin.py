"""What an administrator does to accounts from the console: people, their roles and groups,
their API keys. Every change is an audit record in the same transaction, naming who did it to
whom, so an information-policy officer can show an auditor how an account came to be.

Two guards keep an installation manageable: an administrator cannot disable themselves or
take away their own admin role, and the last enabled administrator stays one.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import anyio

from mamori.accounts.authz import require_admin
from mamori.accounts.credentials import (
    NewApiKey,
    check_password_strength,
    generate_password,
    hash_password,
)
from mamori.accounts.service import AccountService
from mamori.audit.acts import append_act
from mamori.domain.chat import ReasoningEffort
from mamori.domain.classification import Classification
from mamori.domain.principal import Group, Principal, Role
from mamori.domain.reasoning import ReasoningDisplay
from mamori.errors import ForbiddenError, InvalidRequestError, NotFoundError
from mamori.store.database import Connection
from mamori.store.repos import api_keys, groups, sessions, users
from mamori.store.repos.api_keys import ApiKeyRow
from mamori.store.repos.users import UserRow

ADMINS_ONLY = "only administrators manage accounts"


@dataclass(frozen=True, slots=True)
class Account:
    user: UserRow
    groups: tuple[Group, ...]


@dataclass(frozen=True, slots=True)
class KeyListing:
    key: ApiKeyRow
    username: str


class AccountAdministration:
    def __init__(self, accounts: AccountService) -> None:
        self.accounts = accounts
        self.db = accounts.db

    # --- people --------------------------------------------------------------------------------

    async def list_accounts(self, admin: Principal) -> list[Account]:
        require_admin(admin, ADMINS_ONLY)

        def read(conn: Connection) -> list[Account]:
            return [Account(u, groups.groups_of_user(conn, u.id)) for u in users.list_users(conn)]

        return await self.db.read(read)

    async def create(
        self,
        admin: Principal,
        username: str,
        *,
        roles: Iterable[Role],
        display_name: str | None = None,
        group_names: Sequence[str] = (),
    ) -> tuple[UserRow, str]:
        """The new account and its first password, generated, to be shown once. The account,
        its groups and its audit record commit together: an unknown group leaves no account."""
        require_admin(admin, ADMINS_ONLY)
        password = generate_password()
        insert = await self.accounts.prepare_user(username, password, roles, display_name)

        def write(conn: Connection) -> UserRow:
            members_of = []
            for name in group_names:
                group = groups.get_group_by_name(conn, name)
                if group is None:
                    raise NotFoundError(f"no group named {name!r}")
                members_of.append(group)
            user = insert(conn)
            for group in members_of:
                groups.add_member(conn, group.id, user.id)
            append_act(
                conn,
                admin,
                "user.create",
                user.username,
                roles=",".join(sorted(user.roles)),
                groups=",".join(g.name for g in members_of),
            )
            return user

        return await self.db.write(write), password

    async def set_disabled(self, admin: Principal, username: str, *, disabled: bool) -> UserRow:
        """A disabled person's sessions end at once and their API keys stop working."""
        require_admin(admin, ADMINS_ONLY)

        def write(conn: Connection) -> UserRow:
            user = _user(conn, username)
            if disabled and user.id == admin.user_id:
                raise ForbiddenError("you cannot disable your own account", code="self_lockout")
            if disabled and Role.ADMIN in user.roles:
                _keep_an_admin(conn, user.id)
            users.set_disabled(conn, user.id, disabled)
            if disabled:
                sessions.delete_user_sessions(conn, user.id)
            append_act(conn, admin, "user.disable" if disabled else "user.enable", username)
            return _user(conn, username)

        changed = await self.db.write(write)
        self.accounts.forget_cached_keys()
        return changed

    async def reset_password(self, admin: Principal, username: str) -> str:
        """A new generated password, to be shown once; the person's sessions end."""
        require_admin(admin, ADMINS_ONLY)
        password = generate_password()
        problem = check_password_strength(password)
        if problem:  # the generator's own output; a failure here is a bug, not input
            raise InvalidRequestError(problem)
        password_hash = await anyio.to_thread.run_sync(hash_password, password)

        def write(conn: Connection) -> None:
            user = _user(conn, username)
            users.set_password_hash(conn, user.id, password_hash)
            sessions.delete_user_sessions(conn, user.id)
            append_act(conn, admin, "user.reset_password", username)

        await self.db.write(write)
        return password

    async def set_roles(self, admin: Principal, username: str, roles: Iterable[Role]) -> UserRow:
        require_admin(admin, ADMINS_ONLY)
        wanted = frozenset(roles) | {Role.USER}

        def write(conn: Connection) -> UserRow:
            user = _user(conn, username)
            losing_admin = Role.ADMIN in user.roles and Role.ADMIN not in wanted
            if losing_admin and user.id == admin.user_id:
                raise ForbiddenError("you cannot remove your own admin role", code="self_lockout")
            if losing_admin:
                _keep_an_admin(conn, user.id)
            users.set_roles(conn, user.id, wanted)
            append_act(conn, admin, "user.roles", username, roles=",".join(sorted(wanted)))
            return _user(conn, username)

        changed = await self.db.write(write)
        self.accounts.forget_cached_keys()
        return changed

    # --- groups --------------------------------------------------------------------------------

    async def create_group(
        self,
        admin: Principal,
        name: str,
        *,
        display_name: str | None = None,
        default_classification: Classification | None = None,
    ) -> Group:
        require_admin(admin, ADMINS_ONLY)
        return await self.accounts.create_group(
            name,
            display_name=display_name,
            default_classification=default_classification,
            record=lambda c: append_act(c, admin, "group.create", name),
        )

    async def set_group_policy(
        self,
        admin: Principal,
        name: str,
        *,
        default_classification: Classification | None,
        reasoning_display: ReasoningDisplay | None,
        max_reasoning_effort: ReasoningEffort | None,
    ) -> None:
        """What the group's members' turns start from and may use; None: no opinion."""
        require_admin(admin, ADMINS_ONLY)
        details = {
            "default_classification": ""
            if default_classification is None
            else str(int(default_classification)),
            "reasoning_display": reasoning_display.value if reasoning_display else "",
            "max_reasoning_effort": max_reasoning_effort or "",
        }
        await self.accounts.set_group_policy(
            name,
            reasoning_display=reasoning_display,
            max_reasoning_effort=max_reasoning_effort,
            default_classification=default_classification,
            record=lambda c: append_act(c, admin, "group.policy", name, **details),
        )

    async def set_membership(
        self, admin: Principal, group_name: str, username: str, *, member: bool
    ) -> bool:
        require_admin(admin, ADMINS_ONLY)
        action = "group.add_member" if member else "group.remove_member"
        return await self.accounts.set_membership(
            group_name,
            username,
            member=member,
            record=lambda c: append_act(c, admin, action, group_name, member=username),
        )

    # --- API keys ------------------------------------------------------------------------------

    async def list_keys(self, admin: Principal) -> list[KeyListing]:
        require_admin(admin, ADMINS_ONLY)

        def read(conn: Connection) -> list[KeyListing]:
            names = {u.id: u.username for u in users.list_users(conn)}
            return [KeyListing(k, names.get(k.user_id, "?")) for k in api_keys.list_api_keys(conn)]

        return await self.db.read(read)

    async def create_key(
        self,
        admin: Principal,
        username: str,
        name: str,
        *,
        models: Sequence[str] = (),
        expires_at: datetime | None = None,
    ) -> NewApiKey:
        """The key in plain text, to be shown once; only its hash is kept."""
        require_admin(admin, ADMINS_ONLY)
        if not name.strip() or len(name) > 200:
            raise InvalidRequestError("a key needs a name of 1-200 characters")
        if expires_at is not None and expires_at <= datetime.now(UTC):
            raise InvalidRequestError("the expiry must be in the future")
        return await self.accounts.create_api_key(
            username,
            name.strip(),
            models=models,
            expires_at=expires_at,
            record=lambda c, new: append_act(
                c,
                admin,
                "api_key.create",
                username,
                key=new.prefix,
                models=",".join(sorted(models)) or "*",
                expires_at=expires_at.isoformat() if expires_at else "",
            ),
        )

    async def revoke_key(self, admin: Principal, key_id: str) -> None:
        require_admin(admin, ADMINS_ONLY)

        def write(conn: Connection) -> None:
            known = {k.id: k for k in api_keys.list_api_keys(conn)}
            if key_id not in known:
                raise NotFoundError("no such API key")
            if api_keys.revoke_api_key(conn, key_id):
                append_act(conn, admin, "api_key.revoke", known[key_id].prefix)

        await self.db.write(write)
        self.accounts.forget_cached_keys()


def _user(conn: Connection, username: str) -> UserRow:
    user = users.get_user_by_username(conn, username)
    if user is None:
        raise NotFoundError(f"no user named {username!r}")
    return user


def _keep_an_admin(conn: Connection, leaving_id: str) -> None:
    others = [
        u
        for u in users.list_users(conn)
        if Role.ADMIN in u.roles and not u.disabled and u.id != leaving_id
    ]
    if not others:
        raise ForbiddenError("the last administrator must stay one", code="last_admin")
