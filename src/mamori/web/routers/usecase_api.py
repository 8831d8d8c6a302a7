"""Use cases over JSON: staff list them and start a conversation from a filled-in form;
administrators add, edit, hide, reset, import and export them. The catalog decides who may
change what (mamori.usecases.catalog)."""

from __future__ import annotations

from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Body
from fastapi.responses import Response
from pydantic import BaseModel, Field

from mamori.accounts.authz import require_admin
from mamori.errors import InvalidRequestError, UnknownModelError
from mamori.settings import ClassificationName
from mamori.usecases.catalog import parse_definition
from mamori.usecases.definition import conversation_title
from mamori.usecases.prompt import UseCaseInputError, read_values, render_prompt
from mamori.web.conversation_start import start_conversation
from mamori.web.deps import ServicesDep, SessionDep
from mamori.web.presenters import conversation_json
from mamori.web.responses import Json
from mamori.web.usecase_json import use_case_json

router = APIRouter(prefix="/api")

ADMINS_ONLY = "only administrators manage use cases"


class UseCaseRun(BaseModel):
    values: dict[str, str | bool] = Field(default_factory=dict, max_length=20)
    model: str | None = Field(default=None, max_length=200)
    classification: ClassificationName | None = None
    knowledge_bases: list[str] = Field(default_factory=list, max_length=16)


class Definition(BaseModel):
    definition: dict[str, Any]


class Visibility(BaseModel):
    hidden: bool


class Import(BaseModel):
    use_cases: list[Any] = Field(max_length=200)


@router.get("/use-cases")
async def list_use_cases(session: SessionDep, services: ServicesDep) -> Json:
    entries = await services.use_cases.entries()
    return Json({"use_cases": [use_case_json(e, session.lang) for e in entries]})


@router.post("/use-cases/{use_case_id}/conversations", status_code=201)
async def start_use_case(
    use_case_id: str, body: UseCaseRun, session: SessionDep, services: ServicesDep
) -> Json:
    """Checks the form, writes the prompt and opens a conversation for it; the page then sends
    the prompt as the conversation's first message, through the same pipeline as any turn."""
    use_case = (await services.use_cases.get(use_case_id)).use_case
    values = read_values(use_case, body.values)
    prompt = await anyio.to_thread.run_sync(render_prompt, use_case, values)
    model = body.model or use_case.model
    if model is not None and services.registry.model(model) is None:
        if body.model is not None:
            raise UnknownModelError(f"model {body.model!r} is not available")
        model = None  # the use case's default is not installed here: the page's choice stands
    wanted = body.knowledge_bases if use_case.knowledge != "none" else []
    if use_case.knowledge == "required" and not wanted:
        # A base the person may not read is refused by start_conversation ("not found", as in
        # the chat API); what is left here is a form sent without any.
        raise UseCaseInputError(
            "choose at least one knowledge base you may read", field="knowledge_bases"
        )
    first_text = next((v for v in values.values() if isinstance(v, str) and v), "")
    conversation = await start_conversation(
        services,
        session.principal,
        title=conversation_title(use_case, session.lang, first_text),
        model=model,
        classification=body.classification,
        knowledge_bases=wanted,
        use_case=use_case.id,
    )
    return Json(
        {"conversation": conversation_json(conversation), "prompt": prompt, "model": model},
        status_code=201,
    )


# ── administration ─────────────────────────────────────────────────────────────────────────
@router.get("/admin/use-cases")
async def admin_list(session: SessionDep, services: ServicesDep) -> Json:
    require_admin(session.principal, ADMINS_ONLY)
    entries = await services.use_cases.entries(include_hidden=True)
    return Json({"use_cases": [use_case_json(e, session.lang, admin=True) for e in entries]})


@router.post("/admin/use-cases", status_code=201)
async def admin_create(body: Definition, session: SessionDep, services: ServicesDep) -> Json:
    use_case = parse_definition(body.definition)
    entry = await services.use_cases.save(session.principal, use_case, create=True)
    return Json(use_case_json(entry, session.lang, admin=True), status_code=201)


@router.put("/admin/use-cases/{use_case_id}")
async def admin_update(
    use_case_id: str, body: Definition, session: SessionDep, services: ServicesDep
) -> Json:
    use_case = parse_definition(body.definition)
    if use_case.id != use_case_id:
        raise InvalidRequestError("the definition's id differs from the one in the address")
    entry = await services.use_cases.save(session.principal, use_case, create=False)
    return Json(use_case_json(entry, session.lang, admin=True))


@router.put("/admin/use-cases/{use_case_id}/hidden")
async def admin_hide(
    use_case_id: str, body: Visibility, session: SessionDep, services: ServicesDep
) -> Json:
    entry = await services.use_cases.set_hidden(session.principal, use_case_id, hidden=body.hidden)
    return Json(use_case_json(entry, session.lang, admin=True))


@router.delete("/admin/use-cases/{use_case_id}")
async def admin_remove(use_case_id: str, session: SessionDep, services: ServicesDep) -> Response:
    """An administrator's use case is deleted (204); a built-in one is reset to what mamori
    ships, and returned."""
    entry = await services.use_cases.remove(session.principal, use_case_id)
    if entry is None:
        return Response(status_code=204)
    return Json(use_case_json(entry, session.lang, admin=True))


@router.get("/admin/use-cases/export")
async def admin_export(session: SessionDep, services: ServicesDep) -> Json:
    require_admin(session.principal, ADMINS_ONLY)
    body = {"format": "mamori.use_cases/1", "use_cases": await services.use_cases.export()}
    return Json(
        body, headers={"content-disposition": 'attachment; filename="mamori-use-cases.json"'}
    )


@router.post("/admin/use-cases/import")
async def admin_import(
    body: Annotated[Import, Body()], session: SessionDep, services: ServicesDep
) -> Json:
    entries = await services.use_cases.import_many(session.principal, body.use_cases)
    return Json({"use_cases": [use_case_json(e, session.lang, admin=True) for e in entries]})
