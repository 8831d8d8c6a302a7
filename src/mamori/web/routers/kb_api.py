"""The workspace's knowledge-base API: knowledge bases, access lists, documents and search.

Who may do what is decided in ``mamori.rag.access``; this module only translates HTTP. An
upload's body is the file itself (``PUT .../documents?filename=``), stored and answered with a
pending document at once; the background ingestion indexes it and the document's status
shows the progress.
"""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Body, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel, Field

from mamori.domain.documents import DocumentStatus
from mamori.domain.principal import Group
from mamori.errors import InvalidRequestError, NotFoundError
from mamori.rag import access
from mamori.settings import ClassificationName
from mamori.store.repos import groups
from mamori.store.repos import kb_documents as docs
from mamori.store.repos import knowledge_bases as kbs
from mamori.web.deps import ServicesDep, SessionDep
from mamori.web.knowledge_json import access_json, document_json, kb_json
from mamori.web.responses import Json
from mamori.web.services import Services

router = APIRouter(prefix="/api/kbs")

_UPLOAD_PATH = re.compile(r"^/api/kbs/[^/]+/documents$")


def is_upload(method: str, path: str) -> bool:
    """The one route whose body may be as large as a knowledge-base file."""
    return method == "PUT" and _UPLOAD_PATH.match(path) is not None


class NewKnowledgeBase(BaseModel):
    name: str = Field(min_length=1, max_length=200)
    group: str = Field(min_length=1, max_length=200, description="owner group: name or id")
    classification: ClassificationName
    description: str = Field(default="", max_length=2000)


class Grant(BaseModel):
    group: str = Field(min_length=1, max_length=200, description="group: name or id")
    can_write: bool = False


@router.get("")
async def list_knowledge_bases(session: SessionDep, services: ServicesDep) -> Json:
    principal = session.principal
    shown = await access.visible(services.db, principal)
    user_id = principal.user_id
    result = []
    for kb in shown:
        readable = await services.db.read(kbs.may_read, kb.id, user_id)
        writable = principal.is_admin or await services.db.read(kbs.may_write, kb.id, user_id)
        result.append(kb_json(kb, can_read=readable, can_write=writable))
    return Json({"knowledge_bases": result, "can_manage": principal.is_admin})


@router.post("", status_code=201)
async def create_knowledge_base(
    body: Annotated[NewKnowledgeBase, Body()], session: SessionDep, services: ServicesDep
) -> Json:
    access.require_manager(session.principal)
    group = await _group(services, body.group)
    kb = await services.db.write(
        lambda c: kbs.create_kb(
            c,
            name=body.name.strip(),
            owner_group_id=group.id,
            classification=body.classification,
            description=body.description.strip(),
        )
    )
    member = await services.db.read(kbs.may_read, kb.id, session.principal.user_id)
    return Json(kb_json(kb, can_read=member, can_write=True), status_code=201)


@router.get("/{kb_id}")
async def get_knowledge_base(kb_id: str, session: SessionDep, services: ServicesDep) -> Json:
    principal = session.principal
    kb = await access.for_viewing(services.db, principal, kb_id)
    readable = await services.db.read(kbs.may_read, kb.id, principal.user_id)
    writable = principal.is_admin or await services.db.read(kbs.may_write, kb.id, principal.user_id)
    entries = await services.db.read(kbs.access_list, kb.id)
    documents = await services.db.read(docs.list_documents, kb.id)
    return Json(
        {
            **kb_json(kb, can_read=readable, can_write=writable),
            "access": [access_json(e) for e in entries],
            "documents": [document_json(d) for d in documents],
        }
    )


@router.delete("/{kb_id}", status_code=204)
async def delete_knowledge_base(kb_id: str, session: SessionDep, services: ServicesDep) -> Response:
    kb = await access.for_managing(services.db, session.principal, kb_id)
    await services.ingestor.delete_kb(kb)
    return Response(status_code=204)


@router.put("/{kb_id}/access")
async def grant_access(
    kb_id: str, body: Annotated[Grant, Body()], session: SessionDep, services: ServicesDep
) -> Json:
    kb = await access.for_managing(services.db, session.principal, kb_id)
    group = await _group(services, body.group)
    if group.id == kb.owner_group_id:
        # A grant replaces the entry: it would turn the owner's read-write into read-only.
        raise InvalidRequestError("the owner group keeps its access", code="owner_access")
    await services.db.write(kbs.grant, kb.id, group.id, can_write=body.can_write)
    entries = await services.db.read(kbs.access_list, kb.id)
    return Json({"access": [access_json(e) for e in entries]})


@router.delete("/{kb_id}/access/{group_id}", status_code=204)
async def revoke_access(
    kb_id: str, group_id: str, session: SessionDep, services: ServicesDep
) -> Response:
    kb = await access.for_managing(services.db, session.principal, kb_id)
    if group_id == kb.owner_group_id:
        raise InvalidRequestError("the owner group keeps its access", code="owner_access")
    if not await services.db.write(kbs.revoke, kb.id, group_id):
        raise NotFoundError("no such access entry")
    return Response(status_code=204)


@router.get("/{kb_id}/documents")
async def list_documents(kb_id: str, session: SessionDep, services: ServicesDep) -> Json:
    kb = await access.for_viewing(services.db, session.principal, kb_id)
    documents = await services.db.read(docs.list_documents, kb.id)
    return Json({"documents": [document_json(d) for d in documents]})


@router.put("/{kb_id}/documents", status_code=202)
async def upload_document(
    kb_id: str,
    request: Request,
    session: SessionDep,
    services: ServicesDep,
    filename: Annotated[str, Query(min_length=1, max_length=255)],
) -> Json:
    kb = await access.for_writing(services.db, session.principal, kb_id)
    data = await request.body()
    # Refusals (0 bytes, too large, no name) answer 422 with the file's reason.
    document = await services.ingestor.accept(kb, filename, data, user_id=session.principal.user_id)
    if document.status is not DocumentStatus.READY:  # ready: these very bytes are indexed
        services.ingestion.submit(document.id)
    return Json(document_json(document), status_code=202)


@router.delete("/{kb_id}/documents/{document_id}", status_code=204)
async def delete_document(
    kb_id: str, document_id: str, session: SessionDep, services: ServicesDep
) -> Response:
    kb = await access.for_writing(services.db, session.principal, kb_id)
    document = await services.db.read(docs.get_document, document_id)
    if document is None or document.kb_id != kb.id:
        raise NotFoundError("document not found")
    await services.ingestor.delete_document(document)
    return Response(status_code=204)


@router.post("/{kb_id}/reindex", status_code=202)
async def reindex(kb_id: str, session: SessionDep, services: ServicesDep) -> Json:
    """Every document parsed and indexed again (after a parser or tokenizer upgrade)."""
    kb = await access.for_writing(services.db, session.principal, kb_id)
    documents = await services.db.read(docs.list_documents, kb.id)
    for document in documents:
        services.ingestion.submit(document.id)
    return Json({"queued": len(documents)}, status_code=202)


@router.get("/{kb_id}/search")
async def search(
    kb_id: str,
    session: SessionDep,
    services: ServicesDep,
    q: Annotated[str, Query(min_length=1, max_length=2000)],
    top_k: Annotated[int, Query(ge=1, le=50)] = 10,
) -> Json:
    kb = await access.for_reading(services.db, session.principal, kb_id)
    hits = await services.search.search(
        q, kb_ids=[kb.id], user_id=session.principal.user_id, limit=top_k
    )
    return Json(
        {
            "hits": [
                {
                    "document_id": h.document_id,
                    "title": h.title,
                    "filename": h.filename,
                    "page": h.page,
                    "headings": h.headings,
                    "text": h.text,
                    "score": h.score,
                }
                for h in hits
            ]
        }
    )


async def _group(services: Services, name_or_id: str) -> Group:
    group = await services.db.read(groups.find_group, name_or_id.strip())
    if group is None:
        raise NotFoundError(f"no group {name_or_id!r}", code="group_not_found")
    return group
