"""The admin console (/admin) and its pages for people and groups, API keys, and endpoints.
Rendered on the server; each page's script (static/js/admin_*.js) calls the JSON API behind it
(routers/admin_api.py, endpoints_api.py), which checks every change again."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from mamori.accounts.authz import require_admin
from mamori.domain.classification import Classification
from mamori.domain.endpoint import Residency
from mamori.gateway.dialects import DIALECTS
from mamori.web.deps import OptionalSessionDep, ServicesDep, WebSession
from mamori.web.i18n import js_strings, strings_under
from mamori.web.routers.pages import render_page, to_login, user_context

router = APIRouter()

ADMINS_ONLY = "only administrators use the admin console"

# (section key, address): the order of the console's cards.
SECTIONS = (
    ("users", "/admin/users"),
    ("endpoints", "/admin/endpoints"),
    ("keys", "/admin/keys"),
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
    require_admin(session.principal, ADMINS_ONLY)
    sections = [
        (key, href) for key, href in SECTIONS if key != "audit" or session.principal.is_auditor
    ]
    context: dict[str, object] = {
        "user": user_context(session),
        "sections": sections,
        "csrf_token": session.csrf_token,
    }
    return render_page(request, services, "admin.html", context)


def admin_context(session: WebSession) -> dict[str, object]:
    """What every admin page gets: the checks passed, its scripts' strings, the labels."""
    require_admin(session.principal, ADMINS_ONLY)
    return {
        "user": user_context(session),
        "csrf_token": session.csrf_token,
        "js_strings": js_strings(session.lang),
        "page_strings": strings_under(session.lang, *PAGE_PREFIXES),
        "classifications": [int(c) for c in Classification],
    }


PAGE_PREFIXES = ("admin.", "usecase.admin.")


@router.get("/admin/users", response_class=HTMLResponse)
async def users_page(
    request: Request, services: ServicesDep, session: OptionalSessionDep
) -> Response:
    if session is None:
        return to_login(request)
    return render_page(request, services, "admin_users.html", admin_context(session))


@router.get("/admin/keys", response_class=HTMLResponse)
async def keys_page(
    request: Request, services: ServicesDep, session: OptionalSessionDep
) -> Response:
    if session is None:
        return to_login(request)
    context = admin_context(session)
    accounts = await services.account_admin.list_accounts(session.principal)
    context["usernames"] = [a.user.username for a in accounts if not a.user.disabled]
    context["models"] = [m.name for m in services.registry.models()]
    return render_page(request, services, "admin_keys.html", context)


@router.get("/admin/endpoints", response_class=HTMLResponse)
async def endpoints_page(
    request: Request, services: ServicesDep, session: OptionalSessionDep
) -> Response:
    if session is None:
        return to_login(request)
    context = admin_context(session)
    context["dialects"] = sorted(DIALECTS)
    context["residencies"] = [r.value for r in Residency]
    return render_page(request, services, "admin_endpoints.html", context)
