"""Files attached to a question: uploaded before the question is sent, read by the isolated
parsers, and shown back as what the model will get (name, pages, characters, whether it was
cut). The question then names them (routers/app_api.py)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from mamori.errors import NotFoundError
from mamori.rag.attachments import read_attachment
from mamori.store.repos import attachments as repo
from mamori.web.deps import ServicesDep, SessionDep
from mamori.web.responses import Json

router = APIRouter(prefix="/api/attachments")


def is_upload(method: str, path: str) -> bool:
    """The body of this route may be as large as a knowledge-base file."""
    return method == "POST" and path == "/api/attachments"


@router.post("", status_code=201)
async def upload(
    request: Request,
    session: SessionDep,
    services: ServicesDep,
    filename: Annotated[str, Query(min_length=1, max_length=300)],
) -> Json:
    data = await request.body()
    attachment = await read_attachment(
        services.db,
        services.ingestor.parse,
        session.principal,
        filename,
        data,
        max_chars=services.settings.attachment_max_chars,
    )
    return Json(
        {
            "id": attachment.id,
            "filename": attachment.filename,
            "pages": attachment.pages,
            "chars": attachment.chars,
            "truncated": attachment.truncated,
            "kept_chars": len(attachment.text),
        },
        status_code=201,
    )


@router.delete("/{attachment_id}", status_code=204)
async def remove(attachment_id: str, session: SessionDep, services: ServicesDep) -> Response:
    """Only a file not yet sent: one sent is part of its conversation."""
    user_id = session.principal.user_id
    if not await services.db.write(lambda c: repo.delete_unsent(c, user_id, attachment_id)):
        raise NotFoundError("attachment not found")
    return Response(status_code=204)
