"""The admin console's front page (/admin): one place that leads to everything an
administrator manages. Each section is a page of its own, with its own checks."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from mamori.errors import ForbiddenError
from mamori.web.deps import OptionalSessionDep, ServicesDep
from mamori.web.routers.pages import render_page, to_login, user_context

router = APIRouter()

# (section key, address): the order of the console's cards.
SECTIONS = (
    ("use_cases", "/admin/use-cases"),
    ("knowledge", "/knowledge"),
    ("policy", "/admin/policy"),
    ("usage", "/usage"),
    ("audit", "/audit"),
)


@router.get("/admin", response_class=HTMLResponse)
async def console(request: Request, services: ServicesDep, session: OptionalSessionDep) -> Response:
    if session is None:
        return to_login(request)
    if not session.principal.is_admin:
        raise ForbiddenError("only administrators use the admin console")
    sections = [
        (key, href) for key, href in SECTIONS if key != "audit" or session.principal.is_auditor
    ]
    context: dict[str, object] = {
        "user": user_context(session),
        "sections": sections,
        "csrf_token": session.csrf_token,
    }
    return render_page(request, services, "admin.html", context)
