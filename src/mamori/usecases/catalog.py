"""The use cases an installation offers: the built-in ones, as administrators left them, and
their own.

A built-in use case can be edited (its stored definition then replaces the shipped one),
hidden, and reset to what mamori ships; it cannot be deleted, so a later release can still
improve it. Every change by an administrator is an audit record in the same transaction, so
an auditor can tell who changed the prompt staff were given, and when.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache, lru_cache
from importlib import resources
from typing import Any

import orjson
import yaml
from pydantic import ValidationError

from mamori.accounts.authz import require_admin
from mamori.audit.acts import append_act
from mamori.domain.principal import Principal
from mamori.errors import InvalidRequestError, NotFoundError
from mamori.store.database import Connection, Database
from mamori.store.errors import ConflictError
from mamori.store.repos import use_cases as repo
from mamori.usecases.definition import UseCase

ADMINS_ONLY = "only administrators manage use cases"

log = logging.getLogger(__name__)

ACTION_SAVE = "use_case.save"
ACTION_HIDE = "use_case.hide"
ACTION_SHOW = "use_case.show"
ACTION_RESET = "use_case.reset"
ACTION_DELETE = "use_case.delete"

MAX_IMPORT = 200


class UseCaseDefinitionError(InvalidRequestError):
    """A definition that does not validate: a missing field, a template that names a field it
    does not have, a template that does not parse."""

    code = "use_case_invalid"
    http_status = 422
    show_detail = True


@dataclass(frozen=True, slots=True)
class Entry:
    use_case: UseCase
    builtin: bool
    # A built-in use case whose definition an administrator replaced.
    customised: bool = False
    updated_by: str | None = None
    updated_at: datetime | None = None


@cache
def builtin_use_cases() -> dict[str, UseCase]:
    found: dict[str, UseCase] = {}
    for item in sorted(resources.files("mamori.usecases").joinpath("builtin").iterdir(), key=str):
        if item.name.endswith(".yaml"):
            use_case = UseCase.model_validate(yaml.safe_load(item.read_text(encoding="utf-8")))
            found[use_case.id] = use_case
    return found


def parse_definition(data: object) -> UseCase:
    """A definition from JSON or YAML data, or a ``UseCaseDefinitionError`` that says what is
    wrong in terms an administrator can act on."""
    try:
        return UseCase.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in err['loc']) or 'definition'}: {err['msg']}"
            for err in exc.errors()[:5]
        )
        raise UseCaseDefinitionError(f"invalid use case: {problems}") from exc


def definition_json(use_case: UseCase) -> dict[str, Any]:
    return use_case.model_dump(mode="json")


class UseCaseCatalog:
    def __init__(self, db: Database) -> None:
        self.db = db

    async def entries(self, *, include_hidden: bool = False) -> list[Entry]:
        rows = await self.db.read(repo.list_rows)
        merged = _merge(builtin_use_cases(), rows)
        shown = [e for e in merged if include_hidden or not e.use_case.hidden]
        return sorted(shown, key=lambda e: (e.use_case.order, e.use_case.id))

    async def get(self, use_case_id: str, *, include_hidden: bool = False) -> Entry:
        for entry in await self.entries(include_hidden=include_hidden):
            if entry.use_case.id == use_case_id:
                return entry
        raise NotFoundError(f"no use case {use_case_id!r}")

    async def save(self, principal: Principal, use_case: UseCase, *, create: bool) -> Entry:
        """``create``: the id must be new (a built-in one's id included)."""
        require_admin(principal, ADMINS_ONLY)

        def write(conn: Connection) -> None:
            exists = use_case.id in builtin_use_cases() or any(
                r.id == use_case.id and r.definition is not None for r in repo.list_rows(conn)
            )
            if create and exists:
                raise ConflictError(f"a use case {use_case.id!r} exists already")
            if not create and not exists:
                raise NotFoundError(f"no use case {use_case.id!r}")
            _store(conn, principal, use_case)

        await self.db.write(write)
        return await self.get(use_case.id, include_hidden=True)

    async def set_hidden(self, principal: Principal, use_case_id: str, *, hidden: bool) -> Entry:
        require_admin(principal, ADMINS_ONLY)
        await self.get(use_case_id, include_hidden=True)

        def write(conn: Connection) -> None:
            repo.save_row(
                conn,
                use_case_id,
                definition=None,
                hidden=hidden,
                updated_by=principal.username,
                keep_definition=True,
            )
            append_act(conn, principal, ACTION_HIDE if hidden else ACTION_SHOW, use_case_id)

        await self.db.write(write)
        return await self.get(use_case_id, include_hidden=True)

    async def remove(self, principal: Principal, use_case_id: str) -> Entry | None:
        """Deletes an administrator's use case; resets a built-in one to what mamori ships
        (shown, with the shipped template), which is then returned."""
        require_admin(principal, ADMINS_ONLY)
        await self.get(use_case_id, include_hidden=True)
        builtin = use_case_id in builtin_use_cases()

        def write(conn: Connection) -> None:
            repo.delete_row(conn, use_case_id)
            append_act(conn, principal, ACTION_RESET if builtin else ACTION_DELETE, use_case_id)

        await self.db.write(write)
        return await self.get(use_case_id, include_hidden=True) if builtin else None

    async def import_many(self, principal: Principal, items: Sequence[object]) -> list[Entry]:
        """All or nothing: every definition is checked before the first is saved, and an
        existing id (a built-in one too) is replaced."""
        require_admin(principal, ADMINS_ONLY)
        if not items:
            raise UseCaseDefinitionError("nothing to import: the file holds no use cases")
        if len(items) > MAX_IMPORT:
            raise UseCaseDefinitionError(f"at most {MAX_IMPORT} use cases per import")
        parsed: list[UseCase] = []
        for index, item in enumerate(items):
            try:
                parsed.append(parse_definition(item))
            except UseCaseDefinitionError as exc:
                raise UseCaseDefinitionError(f"use case {index + 1}: {exc.message}") from exc
        ids = [u.id for u in parsed]
        if len(set(ids)) != len(ids):
            raise UseCaseDefinitionError("the file holds the same id twice")

        def write(conn: Connection) -> None:
            for use_case in parsed:
                _store(conn, principal, use_case)

        await self.db.write(write)
        wanted = set(ids)
        return [e for e in await self.entries(include_hidden=True) if e.use_case.id in wanted]

    async def export(self) -> list[dict[str, Any]]:
        return [definition_json(e.use_case) for e in await self.entries(include_hidden=True)]


def _store(conn: Connection, principal: Principal, use_case: UseCase) -> None:
    """Saves the definition as given (replacing any) with its audit record."""
    body = orjson.dumps(definition_json(use_case)).decode()
    repo.save_row(
        conn, use_case.id, definition=body, hidden=use_case.hidden, updated_by=principal.username
    )
    append_act(conn, principal, ACTION_SAVE, use_case.id)


def _merge(shipped: dict[str, UseCase], rows: Sequence[repo.UseCaseRow]) -> list[Entry]:
    stored = {r.id: r for r in rows}
    entries: list[Entry] = []
    for use_case_id, use_case in shipped.items():
        row = stored.pop(use_case_id, None)
        if row is None:
            entries.append(Entry(use_case, builtin=True))
            continue
        definition = _stored(row) or use_case
        entries.append(
            Entry(
                definition.model_copy(update={"hidden": row.hidden}),
                builtin=True,
                customised=row.definition is not None,
                updated_by=row.updated_by,
                updated_at=row.updated_at,
            )
        )
    for row in stored.values():
        own = _stored(row)
        if own is not None:
            entries.append(
                Entry(
                    own.model_copy(update={"hidden": row.hidden}),
                    builtin=False,
                    updated_by=row.updated_by,
                    updated_at=row.updated_at,
                )
            )
    return entries


def _stored(row: repo.UseCaseRow) -> UseCase | None:
    # Validated when saved; a row a newer schema would refuse is kept out of the list rather
    # than breaking the gallery for everyone.
    if row.definition is None:
        return None
    use_case = _parsed(row.definition)
    if use_case is None:
        log.warning("stored use case %r no longer validates; it is left out", row.id)
    return use_case


@lru_cache(maxsize=512)
def _parsed(definition: str) -> UseCase | None:
    # Every gallery, chat page and use-case start reads the catalog; validating a definition
    # compiles its template, so each stored text is validated once (UseCase is frozen).
    try:
        return UseCase.model_validate(orjson.loads(definition))
    except (ValidationError, orjson.JSONDecodeError):
        return None
