"""Who may do what with a knowledge base, decided on the server for every face.

- Reading (choosing it for a conversation, searching it, listing its documents): a member of
  a group on its access list. Being an administrator does not grant it: administrators run
  the installation, they do not read every department's files through the assistant.
- Writing (uploading, removing and re-indexing documents): a member of a group granted write
  access, or an administrator.
- Managing (creating, deleting, granting, changing the class): administrators.

A knowledge base the principal may neither read nor manage is answered as absent, so that
names and ids cannot be probed.
"""

from __future__ import annotations

from collections.abc import Sequence

from mamori.accounts.authz import require_admin
from mamori.domain.documents import KnowledgeBase
from mamori.domain.principal import Principal
from mamori.errors import ForbiddenError, NotFoundError
from mamori.store import Database
from mamori.store.repos import knowledge_bases as kbs


async def find(db: Database, ref: str) -> KnowledgeBase | None:
    """By id, else by name."""
    return await db.read(kbs.get_kb, ref) or await db.read(kbs.get_kb_by_name, ref)


async def visible(db: Database, principal: Principal) -> list[KnowledgeBase]:
    """What the knowledge-base list shows: all of them to administrators, else the readable."""
    user_id = None if principal.is_admin else principal.user_id
    return await db.read(lambda c: kbs.list_kbs(c, user_id=user_id))


async def readable(db: Database, principal: Principal, refs: Sequence[str]) -> list[KnowledgeBase]:
    """The knowledge bases named by ``refs`` (ids or names), each readable by ``principal``;
    NotFoundError names the first that is absent or not readable."""
    found: list[KnowledgeBase] = []
    for ref in dict.fromkeys(refs):
        kb = await find(db, ref)
        if kb is None or not await db.read(kbs.may_read, kb.id, principal.user_id):
            raise NotFoundError(f"knowledge base not found: {ref}", code="knowledge_base_not_found")
        found.append(kb)
    return found


async def for_reading(db: Database, principal: Principal, kb_id: str) -> KnowledgeBase:
    [kb] = await readable(db, principal, [kb_id])
    return kb


async def for_viewing(db: Database, principal: Principal, kb_id: str) -> KnowledgeBase:
    """Its description, access list and documents: readers and administrators."""
    kb = await find(db, kb_id)
    if kb is None or not (
        principal.is_admin or await db.read(kbs.may_read, kb.id, principal.user_id)
    ):
        raise NotFoundError(f"knowledge base not found: {kb_id}", code="knowledge_base_not_found")
    return kb


async def for_writing(db: Database, principal: Principal, kb_id: str) -> KnowledgeBase:
    kb = await for_viewing(db, principal, kb_id)
    if not principal.is_admin and not await db.read(kbs.may_write, kb.id, principal.user_id):
        raise ForbiddenError("this knowledge base is read-only for you", code="kb_read_only")
    return kb


async def for_managing(db: Database, principal: Principal, kb_id: str) -> KnowledgeBase:
    kb = await for_viewing(db, principal, kb_id)
    require_manager(principal)
    return kb


def require_manager(principal: Principal) -> None:
    require_admin(principal, "only administrators manage knowledge bases")
