"""What the OpenAI-compatible endpoints share: body parsing, model defaults, and errors.

``/v1/chat/completions`` and ``/v1/responses`` are two dialects of one face; a client must not
be able to tell from an error which of them it spoke to.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from typing import TypeVar
from urllib.parse import unquote

import orjson
from fastapi import Request
from pydantic import BaseModel, ValidationError

from mamori.domain.chat import ErrorEvent, SamplingOptions, StreamEvent
from mamori.domain.classification import Classification
from mamori.errors import (
    RATE_LIMITED,
    InvalidRequestError,
    PolicyDeniedError,
    QuotaExceededError,
    http_status_for,
)
from mamori.web.i18n import translate
from mamori.web.responses import Json
from mamori.web.services import Services
from mamori.web.sse import openai_error_body

M = TypeVar("M", bound=BaseModel)


async def parse_body(request: Request, model: type[M]) -> M:
    raw = await request.body()
    try:
        return model.model_validate(orjson.loads(raw))
    except orjson.JSONDecodeError as exc:
        raise InvalidRequestError(f"request body is not valid JSON: {exc}") from exc
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:5]
        )
        raise InvalidRequestError(f"invalid request: {problems}") from exc


def with_model_defaults(
    services: Services, model: str, sampling: SamplingOptions
) -> SamplingOptions:
    """The model's configured output cap applies when the client names none."""
    configured = services.registry.model(model)
    if sampling.max_tokens is None and configured is not None and configured.max_output_tokens:
        return dataclasses.replace(sampling, max_tokens=configured.max_output_tokens)
    return sampling


async def drain(events: AsyncIterator[StreamEvent]) -> None:
    """Run a turn to its end (saved, audited) before answering with its error, so a client that
    reacts to the error at once already finds the record."""
    async for _ in events:
        pass


def error_response(event: ErrorEvent) -> Json:
    status = http_status_for(event.code)
    headers = {"retry-after": str(event.retry_after)} if event.retry_after else None
    return Json(
        openai_error_body(event.code, client_message(event), error_type(status)),
        status_code=status,
        headers=headers,
    )


def client_message(event: ErrorEvent) -> str:
    """A fixed text per error code. The detail (engine names, internal hosts and ports) stays in
    mamori's log and the audit record; API clients are often outside the data centre. A policy
    refusal keeps its own text: it names the rule and what to do instead, and nothing internal.
    """
    if event.code in (PolicyDeniedError.code, QuotaExceededError.code, RATE_LIMITED):
        return event.message
    return translate("en", f"error.{event.code}")


def error_type(status: int) -> str:
    if status == 400:
        return "invalid_request_error"
    if status == 401:
        return "authentication_error"
    if status == 403:
        return "permission_error"
    if status == 404:
        return "not_found_error"
    if status == 429:
        return "rate_limit_error"
    return "api_error"


CLASSIFICATION_HEADER = "x-mamori-classification"


def request_label(request: Request) -> Classification | None:
    """The label an API client gives its request (公開, 機密性1-3, public, c1-c3 or 0-3).

    Like a conversation's label in the workspace it is the client's statement of what the
    data is; detection still raises it. Without it the turn takes its groups' default.
    """
    raw = request.headers.get(CLASSIFICATION_HEADER)
    if raw is None:
        return None
    value = unquote(raw).strip()
    try:
        return Classification(int(value)) if value.isdigit() else Classification.parse(value)
    except ValueError:
        raise InvalidRequestError(
            f"{CLASSIFICATION_HEADER} must be 公開, 機密性1-3, public, c1-c3 or 0-3"
        ) from None
