"""The auditors' page (/audit) and the usage page (/usage), rendered on the server; their
scripts (static/js/audit_page.js, usage_page.js) call the JSON APIs behind them.

The scripts' own strings travel in <script type="application/json" id="page-strings">
(``PAGE_KEYS``), beside the shared ``#i18n`` block the API helper needs for error messages.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from mamori.audit.inspection import require_auditor
from mamori.audit.usage_report import may_see_everyone
from mamori.domain.audit import TurnStatus
from mamori.domain.classification import Classification
from mamori.domain.sovereignty import PolicyAction
from mamori.web.deps import OptionalSessionDep, ServicesDep
from mamori.web.i18n import js_strings, translate
from mamori.web.routers.pages import render_page, to_login, user_context

router = APIRouter()

AUDIT_KEYS = (
    "audit.chain.ok",
    "audit.chain.bad",
    "audit.chain.unverified",
    "audit.chain.head",
    "audit.chain.checkpoint",
    "audit.chain.none",
    "audit.chain.verified_at",
    "audit.chain.checked",
    "audit.chain.key",
    "audit.chain.problem",
    "audit.no_records",
    "audit.more",
    "audit.content.purged",
    "audit.content.not_kept",
    "audit.content.prompt",
    "audit.content.answer",
    "audit.content.reasoning",
    "audit.detail.title",
    "classification.public",
    "classification.c1",
    "classification.c2",
    "classification.c3",
    *(f"admin.action.{action.value}" for action in PolicyAction),
    *(f"audit.status.{status.value}" for status in TurnStatus),
)
USAGE_KEYS = (
    "usage.chart_label",
    "usage.no_usage",
    "usage.tokens_on",
    "usage.total",
)
PAGE_KEYS = AUDIT_KEYS + USAGE_KEYS


def page_strings(lang: str, keys: tuple[str, ...]) -> dict[str, str]:
    return {key: translate(lang, key) for key in keys}


@router.get("/audit", response_class=HTMLResponse)
async def audit_page(
    request: Request, services: ServicesDep, session: OptionalSessionDep
) -> Response:
    if session is None:
        return to_login(request)
    require_auditor(session.principal)
    context: dict[str, object] = {
        "user": user_context(session),
        "classifications": [int(c) for c in Classification],
        "decisions": [action.value for action in PolicyAction],
        "statuses": [status.value for status in TurnStatus],
        "time_zone": services.settings.timezone,
        "csrf_token": session.csrf_token,
        "js_strings": js_strings(session.lang),
        "page_strings": page_strings(session.lang, AUDIT_KEYS),
    }
    return render_page(request, services, "audit.html", context)


@router.get("/usage", response_class=HTMLResponse)
async def usage_page(
    request: Request, services: ServicesDep, session: OptionalSessionDep
) -> Response:
    if session is None:
        return to_login(request)
    context: dict[str, object] = {
        "user": user_context(session),
        "everyone": may_see_everyone(session.principal),
        "month": datetime.now(services.settings.zone).strftime("%Y-%m"),
        "csrf_token": session.csrf_token,
        "js_strings": js_strings(session.lang),
        "page_strings": page_strings(session.lang, USAGE_KEYS),
    }
    return render_page(request, services, "usage.html", context)
