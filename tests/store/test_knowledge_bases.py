from __future__ import annotations

from collections.abc import Callable

import pytest

from mamori.domain.classification import Classification
from mamori.domain.documents import DocumentStatus
from mamori.domain.principal import Role
from mamori.store import ConflictError, Database
from mamori.store.database import Connection
from mamori.store.repos import kb_documents, knowledge_bases
from mamori.store.repos.groups import add_member, create_group
from mamori.store.repos.kb_documents import NewChunk
from mamori.store.repos.users import create_user


def _people(db: Database, unique: Callable[[str], str]) -> dict[str, str]:
    def setup(conn: Connection) -> dict[str, str]:
        ids: dict[str, str] = {}
        for name in ("tax", "welfare"):
            ids[name] = create_group(conn, name=unique(name)).id
        for name, group in (("taro", "tax"), ("hana", "welfare")):
            user = create_user(conn, username=unique(name), password_hash="h", roles=[Role.USER])
            add_member(conn, ids[group], user.id)
            ids[name] = user.id
        return ids

    return db.write_sync(setup)


async def test_the_owner_group_reads_and_writes_and_others_nothing(
    db: Database, unique: Callable[[str], str]
) -> None:
    ids = _people(db, unique)
    kb = await db.write(
        knowledge_bases.create_kb,
        name=unique("例規集"),
        owner_group_id=ids["tax"],
        classification=Classification.C2,
    )
    assert kb.classification is Classification.C2
    assert await db.read(knowledge_bases.may_read, kb.id, ids["taro"])
    assert await db.read(knowledge_bases.may_write, kb.id, ids["taro"])
    assert not await db.read(knowledge_bases.may_read, kb.id, ids["hana"])
    assert kb.id in [k.id for k in await db.read(knowledge_bases.list_kbs, user_id=ids["taro"])]
    assert kb.id not in [k.id for k in await db.read(knowledge_bases.list_kbs, user_id=ids["hana"])]
    assert (
        await db.read(knowledge_bases.allowed_kb_ids, [kb.id, "no-such-kb"], user_id=ids["hana"])
        == []
    )
    assert await db.read(knowledge_bases.allowed_kb_ids, [kb.id], user_id=None) == [kb.id]


async def test_grants_read_or_write_and_revoke_spares_the_owner(
    db: Database, unique: Callable[[str], str]
) -> None:
    ids = _people(db, unique)
    kb = await db.write(
        knowledge_bases.create_kb,
        name=unique("manual"),
        owner_group_id=ids["tax"],
        classification=Classification.C1,
    )
    await db.write(knowledge_bases.grant, kb.id, ids["welfare"], can_write=False)
    assert await db.read(knowledge_bases.may_read, kb.id, ids["hana"])
    assert not await db.read(knowledge_bases.may_write, kb.id, ids["hana"])
    await db.write(knowledge_bases.grant, kb.id, ids["welfare"], can_write=True)
    assert await db.read(knowledge_bases.may_write, kb.id, ids["hana"])
    entries = await db.read(knowledge_bases.access_list, kb.id)
    assert {(e.group_id, e.can_write, e.owner) for e in entries} == {
        (ids["tax"], True, True),
        (ids["welfare"], True, False),
    }
    assert not await db.write(knowledge_bases.revoke, kb.id, ids["tax"])
    assert await db.write(knowledge_bases.revoke, kb.id, ids["welfare"])
    assert not await db.read(knowledge_bases.may_read, kb.id, ids["hana"])


async def test_names_are_unique(db: Database, unique: Callable[[str], str]) -> None:
    ids = _people(db, unique)
    name = unique("faq")
    await db.write(
        knowledge_bases.create_kb,
        name=name,
        owner_group_id=ids["tax"],
        classification=Classification.PUBLIC,
    )
    with pytest.raises(ConflictError):
        await db.write(
            knowledge_bases.create_kb,
            name=name,
            owner_group_id=ids["welfare"],
            classification=Classification.PUBLIC,
        )


async def test_a_document_of_the_same_name_is_replaced_in_place(
    db: Database, unique: Callable[[str], str]
) -> None:
    ids = _people(db, unique)
    kb = await db.write(
        knowledge_bases.create_kb,
        name=unique("docs"),
        owner_group_id=ids["tax"],
        classification=Classification.C1,
    )
    first = await db.write(
        kb_documents.upsert_document,
        kb_id=kb.id,
        filename="手引.pdf",
        content_hash="a" * 64,
        size_bytes=10,
        created_by=ids["taro"],
    )
    assert first.status is DocumentStatus.PENDING
    old, new = await db.write(
        kb_documents.replace_chunks,
        first.id,
        kb_id=kb.id,
        title="手引",
        pages=2,
        chunks=[
            NewChunk(0, "一", 1, ""),
            NewChunk(1, "二", 2, "", held_back=True, flags="injection.override"),
        ],
    )
    assert old == [] and len(new) == 2 and new[0] < new[1]
    ready = await db.read(kb_documents.get_document, first.id)
    assert ready is not None
    assert (ready.status, ready.pages, ready.chunks, ready.held_back) == (
        DocumentStatus.READY,
        2,
        2,
        1,
    )
    second = await db.write(
        kb_documents.upsert_document,
        kb_id=kb.id,
        filename="手引.pdf",
        content_hash="b" * 64,
        size_bytes=11,
        created_by=ids["taro"],
    )
    assert second.id == first.id and second.status is DocumentStatus.PENDING
    old, new2 = await db.write(
        kb_documents.replace_chunks, first.id, kb_id=kb.id, title="手引", pages=1, chunks=[]
    )
    assert old == new and new2 == []
    assert await db.write(kb_documents.delete_document, first.id) == []
    assert await db.read(kb_documents.get_document, first.id) is None
