"""Server-rendered pages: sign-in, the chat workspace, the admin policy page, and the language
switch."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import quote, urlsplit

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from mamori.domain.chat import REASONING_EFFORTS
from mamori.domain.classification import Classification
from mamori.errors import ForbiddenError
from mamori.web.deps import OptionalSessionDep, ServicesDep, WebSession, request_lang
from mamori.web.i18n import SUPPORTED, js_strings, translate
from mamori.web.policy_json import policy_json
from mamori.web.presenters import model_json
from mamori.web.routers.guard_api import MAX_TEXT_CHARS
from mamori.web.session import COOKIE_NAME, LANG_COOKIE

router = APIRouter()


def _safe_next(target: str | None) -> str:
    # Only same-site paths: an open redirect after login is a phishing tool.
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/"
    return target


def _cross_site(request: Request) -> bool:
    if request.headers.get("sec-fetch-site") == "cross-site":
        return True
    origin = request.headers.get("origin")
    if origin is None or origin == "null":
        return origin == "null"
    return urlsplit(origin).netloc != request.headers.get("host", "")


def render_page(
    request: Request,
    services: ServicesDep,
    name: str,
    context: dict[str, object],
    status: int = 200,
) -> HTMLResponse:
    lang = request_lang(request)
    base: dict[str, object] = {
        "t": lambda key, **kw: translate(lang, key, **kw),
        "lang": lang,
        "static_url": lambda path: str(request.url_for("static", path=path)),
        "csrf_token": "",
    }
    base.update(context)
    return services.templates.TemplateResponse(request, name, base, status_code=status)


@router.get("/login", response_class=HTMLResponse)
async def login_page(
    request: Request, services: ServicesDep, session: OptionalSessionDep, next: str = "/"
) -> Response:
    if session is not None:
        return RedirectResponse(_safe_next(next), status_code=303)
    return render_page(request, services, "login.html", {"error": None, "next": _safe_next(next)})


@router.post("/login", response_class=HTMLResponse)
async def login(
    request: Request,
    services: ServicesDep,
    username: Annotated[str, Form(max_length=64)],
    password: Annotated[str, Form(max_length=1024)],
    next: Annotated[str, Form(max_length=2000)] = "/",
) -> Response:
    lang = request_lang(request)
    if _cross_site(request):
        # Login CSRF: a foreign page must not sign the browser into someone else's account.
        raise ForbiddenError("sign-in from another site refused", code="csrf_failed")
    client = request.client.host if request.client else "-"
    key = f"{username.lower()}|{client}"
    if services.login_throttle.blocked(key):
        error = translate(lang, "error.too_many_attempts")
        return render_page(request, services, "login.html", {"error": error, "next": next}, 429)
    user = await services.accounts.authenticate_password(username, password)
    if user is None:
        services.login_throttle.failed(key)
        error = translate(lang, "error.login_failed")
        return render_page(request, services, "login.html", {"error": error, "next": next}, 401)
    services.login_throttle.succeeded(key)
    token = await services.accounts.start_session(user)
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(
        COOKIE_NAME,
        services.sessions.encode(token),
        max_age=services.settings.session_hours * 3600,
        httponly=True,
        samesite="lax",
        secure=_over_tls(request, services),
    )
    return response


@router.post("/logout")
async def logout(
    services: ServicesDep,
    session: OptionalSessionDep,
    csrf_token: Annotated[str, Form()] = "",
) -> Response:
    response = RedirectResponse("/login", status_code=303)
    if session is not None and services.sessions.csrf_ok(session.token, csrf_token):
        await services.accounts.end_session(session.token)
        response.delete_cookie(COOKIE_NAME)
    return response


def to_login(request: Request) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return RedirectResponse(f"/login?next={quote(target)}", status_code=303)


def user_context(session: WebSession) -> dict[str, object]:
    return {
        "username": session.principal.username,
        "display_name": session.principal.username,
        "is_admin": session.principal.is_admin,
        "is_auditor": session.principal.is_auditor,
    }


@router.get("/", response_class=HTMLResponse)
async def chat_page(
    request: Request, services: ServicesDep, session: OptionalSessionDep
) -> Response:
    if session is None:
        return to_login(request)
    entries = await services.use_cases.entries(include_hidden=True)
    context: dict[str, object] = {
        "user": user_context(session),
        # Answers in conversations started from these use cases are meant to leave the
        # organisation: the page offers the "reviewed by" confirmation on them.
        "outside_use_cases": [e.use_case.id for e in entries if e.use_case.outside_use],
        **turn_controls(services, session),
    }
    return render_page(request, services, "chat.html", context)


def turn_controls(services: ServicesDep, session: WebSession) -> dict[str, object]:
    """What templates/_turn_controls.html needs: the models with what the policy allows of
    each, the labels, the efforts; for the chat page and the use-case pages alike."""
    # A new conversation starts at the label the server would give it anyway, so the selector
    # shows the truth before the person changes anything.
    default_label = session.principal.default_classification(
        services.settings.default_classification
    )
    return {
        "models": [
            model_json(m, services.registry, session.lang, services.policy)
            for m in services.registry.models()
        ],
        "reasoning_efforts": list(REASONING_EFFORTS),
        "classifications": [int(c) for c in Classification],
        "default_classification": int(default_label),
        "csrf_token": session.csrf_token,
        "js_strings": js_strings(session.lang),
    }


@router.get("/admin/policy", response_class=HTMLResponse)
async def admin_policy_page(
    request: Request, services: ServicesDep, session: OptionalSessionDep
) -> Response:
    if session is None:
        return to_login(request)
    if not session.principal.is_admin:
        # The same check as the JSON API behind the page: the rules and the endpoints' trust
        # tell an attacker where data may leak, so only administrators read them.
        raise ForbiddenError("only administrators may read the policy")
    context: dict[str, object] = {
        "user": user_context(session),
        "policy": policy_json(services.policy, services.registry, session.lang),
        "classifications": [int(c) for c in Classification],
        "scan_max_chars": MAX_TEXT_CHARS,
        "csrf_token": session.csrf_token,
        "js_strings": js_strings(session.lang),
    }
    return render_page(request, services, "admin_policy.html", context)


@router.get("/lang/{code}")
async def set_language(
    request: Request, services: ServicesDep, code: str, next: str = "/"
) -> Response:
    response = RedirectResponse(_safe_next(next), status_code=303)
    if code in SUPPORTED:
        response.set_cookie(
            LANG_COOKIE,
            code,
            max_age=365 * 24 * 3600,
            samesite="lax",
            secure=_over_tls(request, services),
        )
    return response


def _over_tls(request: Request, services: ServicesDep) -> bool:
    """Cookies are Secure when the browser speaks TLS: to mamori itself, or to a reverse
    proxy on an address uvicorn trusts for X-Forwarded-Proto (FORWARDED_ALLOW_IPS, loopback
    by default); ``secure_cookies`` forces it for proxies further away."""
    return services.settings.secure_cookies or request.url.scheme == "https"
