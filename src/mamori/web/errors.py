"""Turns exceptions into responses in the shape each face's clients expect."""

from __future__ import annotations

import logging
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from mamori.errors import AuthError, MamoriError
from mamori.web.deps import request_lang
from mamori.web.i18n import error_message, translate
from mamori.web.responses import Json
from mamori.web.services import Services
from mamori.web.sse import openai_error_body

log = logging.getLogger(__name__)


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(MamoriError)
    async def mamori_error(request: Request, exc: MamoriError) -> Response:
        extra: dict[str, str] = {}
        if exc.field is not None:
            extra["field"] = exc.field
        if exc.show_detail:
            extra["detail"] = exc.message
        return _respond(request, exc.http_status, exc.code, exc.message, extra)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> Response:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:5]
        )
        return _respond(request, 400, "invalid_request", f"invalid request: {problems}")

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return _respond(request, exc.status_code, code, str(exc.detail))


def _respond(
    request: Request, status: int, code: str, message: str, extra: dict[str, str] | None = None
) -> Response:
    path = request.url.path
    if path.startswith("/v1/"):
        kind = "authentication_error" if status == 401 else "invalid_request_error"
        if status >= 500:
            kind = "api_error"
        return Json(openai_error_body(code, message, kind), status_code=status)
    if path.startswith("/api/") or path == "/metrics":
        lang = request_lang(request)
        localised = translate(lang, f"error.{code}")
        text = localised if localised != f"error.{code}" else message
        return Json({"error": {"code": code, "message": text, **(extra or {})}}, status_code=status)
    if status == 401 or code == AuthError.code:
        return RedirectResponse(f"/login?next={quote(path)}", status_code=303)
    return _error_page(request, status, code)


def _error_page(request: Request, status: int, code: str) -> Response:
    lang = request_lang(request)
    services: Services | None = getattr(request.app.state, "services", None)
    if services is None:  # not started (or failed to): no templates to render with
        return Json({"error": {"code": code}}, status_code=status)
    context = {
        "t": lambda key, **kw: translate(lang, key, **kw),
        "lang": lang,
        "static_url": lambda p: str(request.url_for("static", path=p)),
        "csrf_token": "",
        "status_code": status,
        "message": error_message(lang, code),
    }
    return services.templates.TemplateResponse(request, "error.html", context, status_code=status)
