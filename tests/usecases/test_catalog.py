"""The catalog on SQLite and PostgreSQL: administrators add, edit, hide, reset, import and
export use cases; a built-in one can be changed and reset but never deleted; staff never see
a hidden one; every change is an audit record naming who made it."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from mamori.domain.principal import Face, Principal, Role
from mamori.errors import ForbiddenError, NotFoundError
from mamori.store.database import Database
from mamori.store.errors import ConflictError
from mamori.store.repos import audit
from mamori.usecases.catalog import (
    UseCaseCatalog,
    UseCaseDefinitionError,
    builtin_use_cases,
    definition_json,
    parse_definition,
)

pytestmark = pytest.mark.asyncio(loop_scope="session")

ADMIN = Principal(user_id="u-admin", username="admin1", roles=frozenset({Role.ADMIN}), face=Face.UI)
CLERK = Principal(user_id="u-clerk", username="clerk1", roles=frozenset({Role.USER}), face=Face.UI)


def own(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": f"uc_{uuid.uuid4().hex[:8]}",
        "title_ja": "窓口メモ",
        "title_en": "Counter memo",
        "fields": [{"name": "text", "label_ja": "本文", "label_en": "Text"}],
        "prompt": "{{ text }}",
    }
    body.update(changes)
    return body


def actions(db: Database, subject: str) -> list[tuple[str, str]]:
    rows = db.read_sync(lambda c: audit.list_audit(c, limit=1000))
    return [(r.action, r.username) for _, r in rows if r.subject == subject][::-1]


async def test_an_admins_use_case_is_added_listed_and_deleted(fresh_db: Database) -> None:
    catalog = UseCaseCatalog(fresh_db)
    use_case = parse_definition(own())
    await catalog.save(ADMIN, use_case, create=True)
    listed = {e.use_case.id: e for e in await catalog.entries()}
    assert use_case.id in listed and not listed[use_case.id].builtin
    with pytest.raises(ConflictError):
        await catalog.save(ADMIN, use_case, create=True)
    assert await catalog.remove(ADMIN, use_case.id) is None
    with pytest.raises(NotFoundError):
        await catalog.get(use_case.id, include_hidden=True)
    assert actions(fresh_db, use_case.id) == [
        ("use_case.save", "admin1"),
        ("use_case.delete", "admin1"),
    ]


async def test_a_built_in_use_case_is_edited_hidden_and_reset(fresh_db: Database) -> None:
    catalog = UseCaseCatalog(fresh_db)
    shipped = builtin_use_cases()["email"]
    edited = shipped.model_copy(update={"title_ja": "メール（総務課版）"})
    entry = await catalog.save(ADMIN, edited, create=False)
    assert entry.customised and entry.use_case.title_ja == "メール（総務課版）"

    await catalog.set_hidden(ADMIN, "email", hidden=True)
    assert "email" not in {e.use_case.id for e in await catalog.entries()}
    with pytest.raises(NotFoundError):
        await catalog.get("email")  # what staff ask for
    hidden = await catalog.get("email", include_hidden=True)
    assert hidden.use_case.hidden and hidden.use_case.title_ja == "メール（総務課版）"

    reset = await catalog.remove(ADMIN, "email")
    assert reset is not None and reset.builtin and not reset.customised
    assert reset.use_case == shipped  # shown again, with the shipped template
    assert [a for a, _ in actions(fresh_db, "email")] == [
        "use_case.save",
        "use_case.hide",
        "use_case.reset",
    ]


async def test_hiding_a_built_in_one_keeps_its_shipped_template(fresh_db: Database) -> None:
    catalog = UseCaseCatalog(fresh_db)
    await catalog.set_hidden(ADMIN, "minutes", hidden=True)
    await catalog.set_hidden(ADMIN, "minutes", hidden=False)
    entry = await catalog.get("minutes")
    assert not entry.customised and entry.use_case == builtin_use_cases()["minutes"]


async def test_staff_cannot_change_use_cases(fresh_db: Database) -> None:
    catalog = UseCaseCatalog(fresh_db)
    with pytest.raises(ForbiddenError):
        await catalog.save(CLERK, parse_definition(own()), create=True)
    with pytest.raises(ForbiddenError):
        await catalog.set_hidden(CLERK, "summarize", hidden=True)
    with pytest.raises(ForbiddenError):
        await catalog.remove(CLERK, "summarize")
    with pytest.raises(ForbiddenError):
        await catalog.import_many(CLERK, [own()])


async def test_import_is_all_or_nothing_and_export_round_trips(fresh_db: Database) -> None:
    catalog = UseCaseCatalog(fresh_db)
    good, bad = own(), own(prompt="{{ nowhere }}")
    with pytest.raises(UseCaseDefinitionError, match=r"use case 2: .*nowhere"):
        await catalog.import_many(ADMIN, [good, bad])
    assert good["id"] not in {e.use_case.id for e in await catalog.entries(include_hidden=True)}

    imported = await catalog.import_many(ADMIN, [good, own(hidden=True)])
    assert len(imported) == 2
    exported = await catalog.export()
    by_id = {item["id"]: item for item in exported}
    assert by_id[good["id"]] == definition_json(parse_definition(good))
    assert {"summarize", "council_answer"} <= set(by_id)  # built-in ones travel too
    assert [e for e in imported if e.use_case.hidden]  # hidden stays hidden


async def test_an_import_with_one_id_twice_is_refused(fresh_db: Database) -> None:
    catalog = UseCaseCatalog(fresh_db)
    item = own()
    with pytest.raises(UseCaseDefinitionError, match="same id twice"):
        await catalog.import_many(ADMIN, [item, item])
