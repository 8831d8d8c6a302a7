"""Attached files on SQLite and PostgreSQL: only their owner finds them; one never sent goes
after a day; one sent lives and dies with its conversation."""

from __future__ import annotations

import uuid
from datetime import timedelta

import pytest

from mamori.domain.classification import Classification
from mamori.domain.principal import Role
from mamori.store import Database
from mamori.store.database import Connection
from mamori.store.repos import attachments
from mamori.store.repos._common import utcnow
from mamori.store.repos.conversations import (
    create_conversation,
    delete_conversation,
    purge_deleted,
)
from mamori.store.repos.users import create_user

pytestmark = pytest.mark.asyncio(loop_scope="session")


def name() -> str:
    return f"f-{uuid.uuid4().hex[:8]}"


async def test_owner_only_unsent_purged_sent_goes_with_its_conversation(db: Database) -> None:
    def setup(c: Connection) -> tuple[str, str, str, str]:
        owner = create_user(c, username=name(), password_hash="x", roles=[Role.USER])
        other = create_user(c, username=name(), password_hash="x", roles=[Role.USER])
        conv = create_conversation(
            c, user_id=owner.id, title="t", model=None, classification=Classification.C1
        )
        sent = attachments.create_attachment(
            c, user_id=owner.id, filename="a.txt", text="a", pages=1, chars=1, truncated=False
        )
        unsent = attachments.create_attachment(
            c, user_id=owner.id, filename="b.txt", text="b", pages=1, chars=1, truncated=False
        )
        attachments.bind(c, [sent.id], conv.id)
        return owner.id, other.id, conv.id, sent.id + "|" + unsent.id

    owner, other, conv, both = await db.write(setup)
    sent, unsent = both.split("|")
    assert [a.id for a in await db.read(attachments.owned, owner, [unsent, sent])] == [unsent, sent]
    assert await db.read(attachments.owned, other, [sent, unsent]) == []
    assert set(await db.read(attachments.of_conversation, conv)) == {sent}

    await db.write(attachments.purge_unsent, utcnow() + timedelta(seconds=1))
    assert [a.id for a in await db.read(attachments.owned, owner, [sent, unsent])] == [sent]

    when = utcnow()
    await db.write(delete_conversation, conv, owner, when)
    await db.write(purge_deleted, when + timedelta(seconds=1), Classification.C1)
    assert await db.read(attachments.owned, owner, [sent]) == []
