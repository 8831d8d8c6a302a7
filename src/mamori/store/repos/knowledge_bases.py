"""Knowledge bases and who may read and write them.

Reading is granted to groups, never to single users: a person reads a knowledge base when one
of their groups is on its access list. ``readable_kb_ids`` is a subquery, so that a search
restricts itself to them inside its own statement.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import (
    ColumnElement,
    Connection,
    RowMapping,
    Select,
    delete,
    exists,
    select,
    update,
)

from mamori.domain.classification import Classification
from mamori.domain.documents import KnowledgeBase
from mamori.store.repos._common import new_id, utcnow
from mamori.store.tables import group_members, groups, kb_access, knowledge_bases


@dataclass(frozen=True, slots=True)
class AccessEntry:
    group_id: str
    group_name: str
    can_write: bool
    owner: bool


def _row_to_kb(row: RowMapping) -> KnowledgeBase:
    return KnowledgeBase(
        id=row["id"],
        name=row["name"],
        owner_group_id=row["owner_group_id"],
        classification=Classification(row["classification"]),
        description=row["description"],
        created_at=row["created_at"],
    )


def create_kb(
    conn: Connection,
    *,
    name: str,
    owner_group_id: str,
    classification: Classification,
    description: str = "",
) -> KnowledgeBase:
    """Raises ``ConflictError`` (through ``Database``) when the name is taken. The owner group
    may read and write from the start."""
    kb_id = new_id()
    conn.execute(
        knowledge_bases.insert().values(
            id=kb_id,
            name=name,
            description=description,
            owner_group_id=owner_group_id,
            classification=int(classification),
            created_at=utcnow(),
        )
    )
    conn.execute(kb_access.insert().values(kb_id=kb_id, group_id=owner_group_id, can_write=True))
    kb = get_kb(conn, kb_id)
    assert kb is not None
    return kb


def get_kb(conn: Connection, kb_id: str) -> KnowledgeBase | None:
    row = conn.execute(select(knowledge_bases).where(knowledge_bases.c.id == kb_id)).first()
    return _row_to_kb(row._mapping) if row else None


def get_kb_by_name(conn: Connection, name: str) -> KnowledgeBase | None:
    row = conn.execute(select(knowledge_bases).where(knowledge_bases.c.name == name)).first()
    return _row_to_kb(row._mapping) if row else None


def list_kbs(conn: Connection, *, user_id: str | None = None) -> list[KnowledgeBase]:
    """Every knowledge base, or those ``user_id`` may read."""
    query = select(knowledge_bases).order_by(knowledge_bases.c.name)
    if user_id is not None:
        query = query.where(knowledge_bases.c.id.in_(readable_kb_ids(user_id)))
    return [_row_to_kb(row._mapping) for row in conn.execute(query)]


def set_classification(conn: Connection, kb_id: str, classification: Classification) -> bool:
    result = conn.execute(
        update(knowledge_bases)
        .where(knowledge_bases.c.id == kb_id)
        .values(classification=int(classification))
    )
    return result.rowcount > 0


def delete_kb(conn: Connection, kb_id: str) -> bool:
    """Documents and chunks go with it (cascade); the keyword index is the caller's."""
    return conn.execute(delete(knowledge_bases).where(knowledge_bases.c.id == kb_id)).rowcount > 0


def grant(conn: Connection, kb_id: str, group_id: str, *, can_write: bool) -> None:
    conn.execute(delete(kb_access).where(_entry(kb_id, group_id)))
    conn.execute(kb_access.insert().values(kb_id=kb_id, group_id=group_id, can_write=can_write))


def revoke(conn: Connection, kb_id: str, group_id: str) -> bool:
    """The owner group cannot be revoked; returns False then, or when there was no entry."""
    owner = conn.execute(
        select(knowledge_bases.c.owner_group_id).where(knowledge_bases.c.id == kb_id)
    ).scalar_one_or_none()
    if owner is None or owner == group_id:
        return False
    return conn.execute(delete(kb_access).where(_entry(kb_id, group_id))).rowcount > 0


def access_list(conn: Connection, kb_id: str) -> list[AccessEntry]:
    rows = conn.execute(
        select(kb_access.c.group_id, groups.c.name, kb_access.c.can_write, knowledge_bases)
        .join(groups, groups.c.id == kb_access.c.group_id)
        .join(knowledge_bases, knowledge_bases.c.id == kb_access.c.kb_id)
        .where(kb_access.c.kb_id == kb_id)
        .order_by(groups.c.name)
    )
    return [
        AccessEntry(
            group_id=row.group_id,
            group_name=row.name,
            can_write=row.can_write,
            owner=row.group_id == row.owner_group_id,
        )
        for row in rows
    ]


def readable_kb_ids(user_id: str) -> Select[tuple[str]]:
    """The ids of the knowledge bases one of ``user_id``'s groups is granted."""
    return (
        select(kb_access.c.kb_id)
        .join(group_members, group_members.c.group_id == kb_access.c.group_id)
        .where(group_members.c.user_id == user_id)
        .distinct()
    )


def allowed_kb_ids(conn: Connection, kb_ids: Sequence[str], *, user_id: str | None) -> list[str]:
    """Those of ``kb_ids`` that exist and that ``user_id`` may read (any, for None)."""
    query = select(knowledge_bases.c.id).where(knowledge_bases.c.id.in_(list(kb_ids)))
    if user_id is not None:
        query = query.where(knowledge_bases.c.id.in_(readable_kb_ids(user_id)))
    return list(conn.execute(query).scalars())


def may_read(conn: Connection, kb_id: str, user_id: str) -> bool:
    query = select(exists(readable_kb_ids(user_id).where(kb_access.c.kb_id == kb_id)))
    return bool(conn.execute(query).scalar())


def may_write(conn: Connection, kb_id: str, user_id: str) -> bool:
    query = select(
        exists(
            select(kb_access.c.kb_id)
            .join(group_members, group_members.c.group_id == kb_access.c.group_id)
            .where(
                group_members.c.user_id == user_id,
                kb_access.c.kb_id == kb_id,
                kb_access.c.can_write,
            )
        )
    )
    return bool(conn.execute(query).scalar())


def _entry(kb_id: str, group_id: str) -> ColumnElement[bool]:
    return (kb_access.c.kb_id == kb_id) & (kb_access.c.group_id == group_id)
