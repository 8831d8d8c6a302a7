"""Account operations shared by the CLI and the web face."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, datetime, timedelta

import anyio

from mamori.accounts.credentials import (
    NewApiKey,
    check_password_strength,
    generate_api_key,
    generate_session_token,
    hash_password,
    hash_token,
    verify_password,
)
from mamori.domain.chat import ReasoningEffort
from mamori.domain.classification import Classification
from mamori.domain.principal import Face, Group, Principal, Role
from mamori.domain.reasoning import ReasoningDisplay
from mamori.errors import InvalidRequestError, NotFoundError
from mamori.store.database import Connection, Database
from mamori.store.repos import api_keys, groups, sessions, users
from mamori.store.repos.users import UserRow

# What a caller records in the same transaction as the change (an administrator's audit act),
# so that the change and its record commit together or not at all.
Record = Callable[[Connection], None]

# Verified API keys are remembered briefly: hashing is cheap, the database round trip is not,
# and the /v1 face sees a request per completion. A revoked key stops working within this time.
API_KEY_CACHE_SECONDS = 30.0
API_KEY_CACHE_SIZE = 1024


def principal_for(
    user: UserRow,
    face: Face,
    api_key_id: str | None = None,
    member_of: tuple[Group, ...] = (),
    allowed_models: frozenset[str] | None = None,
) -> Principal:
    return Principal(
        user_id=user.id,
        username=user.username,
        roles=frozenset(Role(r) for r in user.roles),
        face=face,
        api_key_id=api_key_id,
        locale=user.locale,
        groups=member_of,
        allowed_models=allowed_models,
    )


class AccountService:
    def __init__(self, db: Database, *, session_hours: int = 12) -> None:
        self.db = db
        self.session_lifetime = timedelta(hours=session_hours)
        self._key_cache: OrderedDict[str, tuple[float, Principal]] = OrderedDict()

    # --- users ---------------------------------------------------------------------------------

    async def create_user(
        self, username: str, password: str, roles: Iterable[Role], display_name: str | None = None
    ) -> UserRow:
        insert = await self.prepare_user(username, password, roles, display_name)
        return await self.db.write(insert)

    async def prepare_user(
        self, username: str, password: str, roles: Iterable[Role], display_name: str | None = None
    ) -> Callable[[Connection], UserRow]:
        """Checks the account and hashes its password (slow, so off the event loop and out of
        any transaction); returns the insert, for the caller to run in its own transaction
        beside whatever must commit with it."""
        problem = check_password_strength(password)
        if problem:
            raise InvalidRequestError(problem)
        if not username or len(username) > 64 or any(c.isspace() for c in username):
            raise InvalidRequestError("username must be 1-64 characters without spaces")
        password_hash = await anyio.to_thread.run_sync(hash_password, password)
        role_set = frozenset(roles) | {Role.USER}

        def insert(conn: Connection) -> UserRow:
            if users.get_user_by_username(conn, username) is not None:
                raise InvalidRequestError(f"user {username!r} already exists")
            return users.create_user(
                conn,
                username=username,
                password_hash=password_hash,
                roles=role_set,
                display_name=display_name,
            )

        return insert

    async def count_users(self) -> int:
        return await self.db.read(users.count_users)

    async def authenticate_password(self, username: str, password: str) -> UserRow | None:
        user = await self.db.read(lambda c: users.get_user_by_username(c, username))
        stored = user.password_hash if user is not None and not user.disabled else None
        ok = await anyio.to_thread.run_sync(verify_password, stored, password)
        return user if ok else None

    # --- sessions ------------------------------------------------------------------------------

    async def start_session(self, user: UserRow) -> str:
        token = generate_session_token()
        expires = datetime.now(UTC) + self.session_lifetime
        await self.db.write(
            lambda c: sessions.create_session(
                c, token_hash=hash_token(token), user_id=user.id, expires_at=expires
            )
        )
        return token

    async def session_principal(self, token: str) -> Principal | None:
        now = datetime.now(UTC)

        def read(conn: Connection) -> Principal | None:
            user = sessions.get_session_user(conn, hash_token(token), now)
            if user is None:
                return None
            return principal_for(user, Face.UI, member_of=groups.groups_of_user(conn, user.id))

        return await self.db.read(read)

    async def principal_for_username(self, username: str) -> Principal | None:
        """The person as a turn of theirs would see them (groups included), for explanations."""

        def read(conn: Connection) -> Principal | None:
            user = users.get_user_by_username(conn, username)
            if user is None:
                return None
            return principal_for(user, Face.API, member_of=groups.groups_of_user(conn, user.id))

        return await self.db.read(read)

    async def purge_expired_sessions(self) -> int:
        now = datetime.now(UTC)
        return await self.db.write(lambda c: sessions.purge_expired(c, now))

    async def end_session(self, token: str) -> None:
        await self.db.write(lambda c: sessions.delete_session(c, hash_token(token)))

    # --- API keys ------------------------------------------------------------------------------

    async def create_api_key(
        self,
        username: str,
        name: str,
        *,
        models: Sequence[str] | None = None,
        expires_at: datetime | None = None,
        record: Callable[[Connection, NewApiKey], None] | None = None,
    ) -> NewApiKey:
        """``models``: the only models the key may use (None or empty: all its owner may);
        ``expires_at``: when it stops working (None: when revoked)."""
        new = generate_api_key()

        def write(conn: Connection) -> None:
            user = users.get_user_by_username(conn, username)
            if user is None:
                raise NotFoundError(f"no user named {username!r}")
            api_keys.create_api_key(
                conn,
                user_id=user.id,
                name=name,
                key_hash=new.key_hash,
                prefix=new.prefix,
                models=models or None,
                expires_at=expires_at,
            )
            if record is not None:
                record(conn, new)

        await self.db.write(write)
        return new

    async def api_key_principal(self, key: str) -> Principal | None:
        key_hash = hash_token(key)
        now = time.monotonic()
        cached = self._key_cache.get(key_hash)
        if cached is not None and cached[0] > now:
            return cached[1]

        def read(conn: Connection) -> tuple[Principal, datetime | None] | None:
            found = api_keys.find_active_key(conn, key_hash)
            if found is None:
                return None
            key_row, user = found
            member_of = groups.groups_of_user(conn, user.id)
            scope = frozenset(key_row.models) if key_row.models is not None else None
            principal = principal_for(
                user, Face.API, api_key_id=key_row.id, member_of=member_of, allowed_models=scope
            )
            return principal, key_row.expires_at

        found_key = await self.db.read(read)
        if found_key is None:
            self._key_cache.pop(key_hash, None)
            return None
        principal, expires_at = found_key
        keep = API_KEY_CACHE_SECONDS
        if expires_at is not None:
            # Never trusted from the cache past its expiry.
            keep = min(keep, (expires_at - datetime.now(UTC)).total_seconds())
        self._key_cache[key_hash] = (now + keep, principal)
        if len(self._key_cache) > API_KEY_CACHE_SIZE:
            self._key_cache.popitem(last=False)
        return principal

    def forget_cached_keys(self) -> None:
        self._key_cache.clear()

    # --- groups --------------------------------------------------------------------------------

    async def create_group(
        self,
        name: str,
        *,
        display_name: str | None = None,
        reasoning_display: ReasoningDisplay | None = None,
        max_reasoning_effort: ReasoningEffort | None = None,
        default_classification: Classification | None = None,
        record: Record | None = None,
    ) -> Group:
        if not name or len(name) > 100 or any(c.isspace() for c in name):
            raise InvalidRequestError("group names are 1-100 characters without spaces")

        def write(conn: Connection) -> Group:
            if groups.get_group_by_name(conn, name) is not None:
                raise InvalidRequestError(f"group {name!r} already exists")
            group = groups.create_group(
                conn,
                name=name,
                display_name=display_name,
                reasoning_display=reasoning_display,
                max_reasoning_effort=max_reasoning_effort,
                default_classification=default_classification,
            )
            if record is not None:
                record(conn)
            return group

        return await self.db.write(write)

    async def set_group_policy(
        self,
        name: str,
        *,
        reasoning_display: ReasoningDisplay | None,
        max_reasoning_effort: ReasoningEffort | None,
        default_classification: Classification | None = None,
        record: Record | None = None,
    ) -> None:
        def write(conn: Connection) -> None:
            group = _group_named(conn, name)
            groups.update_group_policy(
                conn,
                group.id,
                reasoning_display=reasoning_display,
                max_reasoning_effort=max_reasoning_effort,
                default_classification=default_classification,
            )
            if record is not None:
                record(conn)

        await self.db.write(write)
        # Cached API-key principals carry their groups' policies.
        self.forget_cached_keys()

    async def set_membership(
        self, group_name: str, username: str, *, member: bool, record: Record | None = None
    ) -> bool:
        """Add or remove ``username``; False when nothing changed (and nothing is recorded)."""

        def write(conn: Connection) -> bool:
            group = _group_named(conn, group_name)
            user = users.get_user_by_username(conn, username)
            if user is None:
                raise NotFoundError(f"no user named {username!r}")
            if member:
                changed = groups.add_member(conn, group.id, user.id)
            else:
                changed = groups.remove_member(conn, group.id, user.id)
            if changed and record is not None:
                record(conn)
            return changed

        changed = await self.db.write(write)
        self.forget_cached_keys()
        return changed

    async def list_groups(self) -> list[tuple[Group, list[str]]]:
        def read(conn: Connection) -> list[tuple[Group, list[str]]]:
            return [(g, groups.member_names(conn, g.id)) for g in groups.list_groups(conn)]

        return await self.db.read(read)


def _group_named(conn: Connection, name: str) -> Group:
    group = groups.get_group_by_name(conn, name)
    if group is None:
        raise NotFoundError(f"no group named {name!r}")
    return group
