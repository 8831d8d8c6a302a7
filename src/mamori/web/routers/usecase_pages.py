"""The use-case pages: the gallery (/use-cases), one use case's form (/use-cases/{id}), and
the administrators' console for them (/admin/use-cases). Rendered on the server;
static/js/usecase_page.js and admin_usecases.js call routers/usecase_api.py."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from mamori.web.deps import OptionalSessionDep, ServicesDep
from mamori.web.routers.admin_pages import admin_context
from mamori.web.routers.pages import render_page, to_login, turn_controls, user_context
from mamori.web.usecase_json import use_case_json

router = APIRouter()

CATEGORIES = ("document", "communication", "council", "citizen", "other")


@router.get("/use-cases", response_class=HTMLResponse)
async def gallery(request: Request, services: ServicesDep, session: OptionalSessionDep) -> Response:
    if session is None:
        return to_login(request)
    entries = await services.use_cases.entries()
    shown = [use_case_json(e, session.lang) for e in entries]
    groups = [(c, [u for u in shown if u["category"] == c]) for c in CATEGORIES]
    context: dict[str, object] = {
        "user": user_context(session),
        "groups": [(c, items) for c, items in groups if items],
        "csrf_token": session.csrf_token,
    }
    return render_page(request, services, "usecases.html", context)


@router.get("/use-cases/{use_case_id}", response_class=HTMLResponse)
async def use_case_page(
    use_case_id: str, request: Request, services: ServicesDep, session: OptionalSessionDep
) -> Response:
    if session is None:
        return to_login(request)
    use_case = use_case_json(await services.use_cases.get(use_case_id), session.lang)
    context: dict[str, object] = {
        "user": user_context(session),
        "use_case": use_case,
        "preferred_model": use_case["model"],
        "preferred_effort": use_case["reasoning_effort"],
        **turn_controls(services, session),
    }
    return render_page(request, services, "usecase.html", context)


@router.get("/admin/use-cases", response_class=HTMLResponse)
async def admin_page(
    request: Request, services: ServicesDep, session: OptionalSessionDep
) -> Response:
    if session is None:
        return to_login(request)
    return render_page(request, services, "admin_usecases.html", admin_context(session))
