"""The knowledge-base page (/knowledge), rendered on the server; static/js/knowledge_page.js
calls the JSON API behind it (routers/kb_api.py), which decides what each person may do."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, Response

from mamori.domain.classification import Classification
from mamori.domain.documents import DocumentStatus
from mamori.store.repos.groups import list_groups
from mamori.web.deps import OptionalSessionDep, ServicesDep
from mamori.web.i18n import js_strings
from mamori.web.routers.audit_pages import page_strings
from mamori.web.routers.pages import render_page, to_login, user_context

router = APIRouter()

KB_KEYS = (
    "classification.public",
    "classification.c1",
    "classification.c2",
    "classification.c3",
    "kb.accepted",
    "kb.delete",
    "kb.delete_confirm",
    "kb.no",
    "kb.no_hits",
    "kb.owner",
    "kb.page",
    "kb.remove",
    "kb.remove_confirm",
    "kb.remove_named",
    "kb.revoke",
    "kb.revoke_named",
    "kb.upload_failed",
    "kb.uploading",
    "kb.yes",
    *(f"kb.status.{status.value}" for status in DocumentStatus),
)


@router.get("/knowledge", response_class=HTMLResponse)
async def knowledge_page(
    request: Request, services: ServicesDep, session: OptionalSessionDep
) -> Response:
    if session is None:
        return to_login(request)
    can_manage = session.principal.is_admin
    groups = await services.db.read(list_groups) if can_manage else []
    context: dict[str, object] = {
        "user": user_context(session),
        "can_manage": can_manage,
        "classifications": [int(c) for c in Classification],
        "groups": [g.name for g in groups],
        "max_file_mb": services.settings.kb_max_file_bytes // (1024 * 1024),
        "csrf_token": session.csrf_token,
        "js_strings": js_strings(session.lang),
        "page_strings": page_strings(session.lang, KB_KEYS),
    }
    return render_page(request, services, "knowledge.html", context)
