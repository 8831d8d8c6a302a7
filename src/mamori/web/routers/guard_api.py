"""The administrators' "check this text" box: what the guard finds in a text, and its verdict.

The same judgement as `mamori guard scan` (``guard.scan``), with the detectors the pipeline
loaded at startup, so an administrator sees exactly what a turn would be judged by.
"""

from __future__ import annotations

import asyncio
from typing import Any, Literal, cast

from fastapi import APIRouter
from pydantic import BaseModel

from mamori.accounts.authz import require_admin
from mamori.errors import InvalidRequestError
from mamori.guard.scan import scan
from mamori.web.deps import ServicesDep, SessionDep
from mamori.web.responses import Json

router = APIRouter(prefix="/api/admin/guard")

MAX_TEXT_CHARS = 100_000


class ScanRequest(BaseModel):
    # The length is checked in the handler, not here, so that an oversize text gets its own
    # error code and message instead of the generic "invalid request".
    text: str
    # Injection is judged by where text came from: a document's instructions are an attack.
    source: Literal["user", "document", "tool", "answer"] = "user"


def _with_text(findings: object, text: str) -> list[dict[str, Any]]:
    """The findings, each with the substring it covers (spans index the original text)."""
    items = cast(list[dict[str, Any]], findings)
    return [{**f, "text": text[f["start"] : f["end"]]} for f in items]


@router.post("/scan")
async def scan_text(body: ScanRequest, session: SessionDep, services: ServicesDep) -> Json:
    require_admin(session.principal, "only administrators may use the guard's scanner")
    if len(body.text) > MAX_TEXT_CHARS:
        raise InvalidRequestError(
            f"the text has {len(body.text)} characters; at most {MAX_TEXT_CHARS} are checked",
            code="text_too_long",
        )
    # Detection is CPU-bound and a long text takes a noticeable time: keep the event loop
    # serving turns meanwhile (the morphology tokenizer is per thread, so this is safe).
    result = await asyncio.to_thread(scan, body.text, services.detectors, source=body.source)
    injection = cast(dict[str, Any], result["injection"])
    return Json(
        {
            "findings": _with_text(result["findings"], body.text),
            "injection": {**injection, "findings": _with_text(injection["findings"], body.text)},
        }
    )
