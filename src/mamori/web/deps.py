"""Request dependencies: who is calling, and the services they may use."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request

from mamori.domain.principal import Principal
from mamori.errors import AuthError, ForbiddenError
from mamori.web.i18n import negotiate
from mamori.web.services import Services
from mamori.web.session import COOKIE_NAME, CSRF_HEADER, LANG_COOKIE


async def get_services(request: Request) -> Services:
    # async on purpose: FastAPI runs a sync dependency on a worker thread, a hop per request
    # that has to win the interpreter lock back from a busy event loop.
    services: Services = request.app.state.services
    return services


ServicesDep = Annotated[Services, Depends(get_services)]


async def api_principal(request: Request, services: ServicesDep) -> Principal:
    """The API key owner, from ``Authorization: Bearer``."""
    header = request.headers.get("authorization", "")
    scheme, _, key = header.partition(" ")
    if scheme.lower() != "bearer" or not key.strip():
        raise AuthError("missing API key: send 'Authorization: Bearer <key>'")
    principal = await services.accounts.api_key_principal(key.strip())
    if principal is None:
        raise AuthError("invalid or revoked API key")
    return principal


ApiPrincipal = Annotated[Principal, Depends(api_principal)]


@dataclass(frozen=True, slots=True)
class WebSession:
    principal: Principal
    token: str
    csrf_token: str
    lang: str


async def optional_web_session(request: Request, services: ServicesDep) -> WebSession | None:
    cookie = request.cookies.get(COOKIE_NAME)
    token = services.sessions.decode(cookie) if cookie else None
    if token is None:
        return None
    principal = await services.accounts.session_principal(token)
    if principal is None:
        return None
    lang = request_lang(request)
    return WebSession(principal, token, services.sessions.csrf_token(token), lang)


async def web_session(
    request: Request, session: Annotated[WebSession | None, Depends(optional_web_session)]
) -> WebSession:
    if session is None:
        raise AuthError("not signed in")
    if request.method not in ("GET", "HEAD", "OPTIONS"):
        services: Services = request.app.state.services
        if not services.sessions.csrf_ok(session.token, request.headers.get(CSRF_HEADER)):
            raise ForbiddenError("missing or wrong CSRF token", code="csrf_failed")
    return session


SessionDep = Annotated[WebSession, Depends(web_session)]
OptionalSessionDep = Annotated[WebSession | None, Depends(optional_web_session)]


def request_lang(request: Request) -> str:
    return negotiate(request.cookies.get(LANG_COOKIE), request.headers.get("accept-language"))
