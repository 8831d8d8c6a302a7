"""The auditors' page (/audit) and the usage page (/usage), rendered on the server. The audit
page's script (static/js/audit_page.js) calls the JSON API behind it; the usage page, charts
included, is drawn entirely on the server (web/usage_svg.py).

The scripts' own strings travel in <script type="application/json" id="page-strings">
(``AUDIT_KEYS``), beside the shared ``#i18n`` block the API helper needs for error messages.
"""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from mamori.audit.inspection import require_auditor
from mamori.audit.usage_report import may_see_everyone
from mamori.domain.audit import TurnStatus
from mamori.domain.classification import Classification
from mamori.domain.sovereignty import PolicyAction
from mamori.errors import MamoriError
from mamori.web.deps import OptionalSessionDep, ServicesDep
from mamori.web.i18n import error_message, js_strings, translate
from mamori.web.routers.pages import render_page, to_login, user_context
from mamori.web.routers.usage_api import load_usage
from mamori.web.usage_svg import day_chart, ranking_chart

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
    request: Request,
    services: ServicesDep,
    session: OptionalSessionDep,
    month: Annotated[str | None, Query(max_length=7)] = None,
    group: Annotated[str | None, Query(max_length=150)] = None,
) -> Response:
    """Drawn on the server, charts included: the page needs no script at all."""
    if session is None:
        return to_login(request)
    lang = session.lang
    everyone = may_see_everyone(session.principal)
    chosen = (group or "").strip() or None
    error = None
    try:
        report = await load_usage(services, session.principal, month, chosen if everyone else None)
    except MamoriError as exc:
        error = error_message(lang, exc.code)
        report = await load_usage(services, session.principal, None)
        chosen = None
    query = {"month": report["month"], **({"group": chosen} if chosen else {})}

    def tokens_of(row: dict[str, int]) -> int:
        return int(row["prompt_tokens"]) + int(row["completion_tokens"])

    def bar(name: str, tokens: int) -> str:
        return translate(lang, "usage.tokens_on", day=name, tokens=f"{tokens:,}")

    context: dict[str, object] = {
        "user": user_context(session),
        "everyone": everyone,
        "month": report["month"],
        "group": chosen or "",
        "report": report,
        "error": error,
        "csv_url": f"/api/usage/report.csv?{urlencode(query)}",
        "day_chart": day_chart(report["days"], translate(lang, "usage.chart_label"), bar),
        "model_chart": ranking_chart(
            [(r["model"], tokens_of(r)) for r in report["by_model"]],
            translate(lang, "usage.model_chart_label"),
            "usage-model-chart",
            bar,
        ),
        "group_chart": ranking_chart(
            [(r["group"], tokens_of(r)) for r in report["by_group"]],
            translate(lang, "usage.group_chart_label"),
            "usage-group-chart",
            bar,
        )
        if report["by_group"]
        else None,
        "csrf_token": session.csrf_token,
    }
    return render_page(request, services, "usage.html", context)
