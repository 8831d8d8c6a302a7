"""Knowledge bases, their documents and citations as the workspace's JSON shows them."""

from __future__ import annotations

from typing import Any

from mamori.domain.documents import Citation, KbDocument, KnowledgeBase
from mamori.store.repos.knowledge_bases import AccessEntry


def kb_json(kb: KnowledgeBase, *, can_write: bool, can_read: bool) -> dict[str, Any]:
    return {
        "id": kb.id,
        "name": kb.name,
        "description": kb.description,
        "classification": int(kb.classification),
        "classification_label": kb.classification.label_ja,
        "owner_group_id": kb.owner_group_id,
        "can_read": can_read,
        "can_write": can_write,
        "created_at": kb.created_at.isoformat(),
    }


def access_json(entry: AccessEntry) -> dict[str, Any]:
    return {
        "group_id": entry.group_id,
        "group": entry.group_name,
        "can_write": entry.can_write,
        "owner": entry.owner,
    }


def document_json(document: KbDocument) -> dict[str, Any]:
    return {
        "id": document.id,
        "kb_id": document.kb_id,
        "filename": document.filename,
        "title": document.title,
        "status": document.status.value,
        "error": document.error,
        "pages": document.pages,
        "chunks": document.chunks,
        "held_back": document.held_back,
        "size_bytes": document.size_bytes,
        "updated_at": document.updated_at.isoformat(),
    }


def citation_json(citation: Citation) -> dict[str, Any]:
    return {
        "index": citation.index,
        "kb_id": citation.kb_id,
        "document_id": citation.document_id,
        "title": citation.title,
        "page": citation.page,
        "headings": citation.headings,
        "snippet": citation.snippet,
    }
