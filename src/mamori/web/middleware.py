"""Pure ASGI middleware (no BaseHTTPMiddleware: it would cost time on every streamed chunk)."""

from __future__ import annotations

from collections.abc import Callable
from http.cookies import CookieError, SimpleCookie
from typing import Any

import orjson

from mamori.web.i18n import negotiate, translate
from mamori.web.session import LANG_COOKIE

Scope = dict[str, Any]
Message = dict[str, Any]

_SECURITY_HEADERS = [
    (
        b"content-security-policy",
        b"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        b"connect-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'self'; "
        b"form-action 'self'",
    ),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
    (b"x-frame-options", b"DENY"),
]


class SecurityHeaders:
    """Adds a strict CSP and friends to every response: model output is never trusted HTML."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        # The /v1 face answers API clients, never a browser rendering HTML; its streams skip a
        # send wrapper that would otherwise run for every token.
        if scope["type"] != "http" or scope["path"].startswith("/v1/"):
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), *_SECURITY_HEADERS]
            await send(message)

        await self.app(scope, receive, send_with_headers)


class BodySizeLimit:
    """Refuses request bodies over a limit before they are read into memory.

    File uploads (``is_upload(method, path)``) have a limit of their own, the largest
    knowledge-base file allowed; every other request keeps the small one."""

    def __init__(
        self,
        app: Any,
        max_bytes: int,
        *,
        upload_max_bytes: int | None = None,
        is_upload: Callable[[str, str], bool] | None = None,
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.upload_max_bytes = upload_max_bytes or max_bytes
        self.is_upload = is_upload

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.max_bytes
        upload = self.is_upload is not None and self.is_upload(scope["method"], scope["path"])
        if upload:
            limit = self.upload_max_bytes
        for name, value in scope.get("headers", []):
            if name == b"content-length" and value.isdigit() and int(value) > limit:
                await self._refuse(scope, send, limit, upload=upload)
                return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message: Message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise _TooLarge
            return message

        try:
            await self.app(scope, limited_receive, send)
        except _TooLarge:
            await self._refuse(scope, send, limit, upload=upload)

    async def _refuse(self, scope: Scope, send: Any, limit: int, *, upload: bool) -> None:
        if upload:
            # Said as the upload route says it of a file just over the limit, in the person's
            # language: the knowledge page shows this message as it is.
            code = "file_too_large"
            error = {"code": code, "message": translate(_language(scope), f"error.{code}")}
        else:
            error = {
                "code": "request_too_large",
                "message": f"request body exceeds {limit} bytes",
                "type": "invalid_request_error",
            }
        body = orjson.dumps({"error": error})
        await send(
            {
                "type": "http.response.start",
                "status": 413,
                "headers": [(b"content-type", b"application/json")],
            }
        )
        await send({"type": "http.response.body", "body": body})


class _TooLarge(Exception):
    pass


def _language(scope: Scope) -> str:
    headers = {name: value.decode("latin-1") for name, value in scope.get("headers", [])}
    chosen = None
    try:
        morsel = SimpleCookie(headers.get("cookie", "")).get(LANG_COOKIE)
        chosen = morsel.value if morsel is not None else None
    except CookieError:
        pass  # a malformed cookie header: fall back to Accept-Language
    return negotiate(chosen, headers.get("accept-language"))
