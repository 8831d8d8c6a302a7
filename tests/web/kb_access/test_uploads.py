"""Uploads through the workspace API: indexed in the background with pages and chunks,
refused with their reason when empty or too large, replaced by a new version, removed at once.
"""

from __future__ import annotations

from tests.support.documents import build_pdf
from tests.web.conftest import upload
from tests.web.kb_access.world import (
    FILE_LIMIT,
    GENERAL_LIMIT,
    World,
    documents_of,
    error_code,
    hits_of,
    indexed,
    new_department,
)


async def test_a_japanese_pdf_becomes_ready_with_pages_and_chunks(world: World) -> None:
    dept = await new_department(world)
    pdf = build_pdf(
        [
            "第1章 総則\nこの手引きは転入の手続きを説明する。",
            "第2章 期限\n転入届は引っ越しの日から14日以内に提出する。",
            "第3章 窓口\n届出は本庁舎一階の住民票窓口で受け付ける。",
        ],
        "転入の手引",
    )
    async with world.live.signed_in(dept.member) as member:
        accepted = await upload(member, dept.kb["id"], "転入の手引.pdf", pdf)
        assert accepted.status_code == 202, accepted.text
        pending = accepted.json()
        assert pending["status"] == "pending" and pending["filename"] == "転入の手引.pdf"
        assert pending["size_bytes"] == len(pdf) and pending["chunks"] == 0
        await indexed(world)
        [doc] = await documents_of(member, dept.kb["id"])
        assert doc["id"] == pending["id"] and doc["status"] == "ready", doc
        assert doc["error"] is None and doc["title"] == "転入の手引"
        # A chunk never spans two pages.
        assert doc["pages"] == 3 and doc["chunks"] >= 3 and doc["held_back"] == 0
        hits = await hits_of(member, dept.kb["id"], "転入届の提出期限")
        assert hits and hits[0]["page"] == 2 and "14日以内" in hits[0]["text"]
        assert hits[0]["title"] == "転入の手引" and hits[0]["filename"] == "転入の手引.pdf"
        [third] = [h for h in await hits_of(member, dept.kb["id"], "住民票窓口") if h["page"] == 3]
        assert "本庁舎" in third["text"]


async def test_an_empty_upload_is_refused_with_its_reason(world: World) -> None:
    dept = await new_department(world)
    async with world.live.signed_in(dept.member) as member:
        empty = await upload(member, dept.kb["id"], "空.txt", b"")
        assert empty.status_code == 422, empty.text
        assert empty.json()["error"] == {
            "code": "empty_file",
            "message": "ファイルが空です（0 バイト）。",
        }
        assert await documents_of(member, dept.kb["id"]) == []


async def test_the_upload_route_has_a_limit_of_its_own(world: World) -> None:
    dept = await new_department(world)
    async with world.live.signed_in(dept.member) as member:
        # Larger than any other request may be, within the file limit. Mostly blank lines:
        # what is measured is the route's limit, not the tokenizer.
        big = "大きな資料の本文。\n".encode() + b"\n" * (GENERAL_LIMIT + (1 << 20))
        assert GENERAL_LIMIT < len(big) < FILE_LIMIT
        accepted = await upload(member, dept.kb["id"], "大きな資料.txt", big)
        assert accepted.status_code == 202, accepted.text
        assert accepted.json()["size_bytes"] == len(big)

        # Every other route keeps the general limit.
        too_big = await member.post(
            "/api/conversations",
            content=b'{"title": "' + b" " * (GENERAL_LIMIT + 1) + b'"}',
            headers={"content-type": "application/json"},
        )
        assert too_big.status_code == 413 and error_code(too_big) == "request_too_large"

        # Just over the file limit: the file's own reason, in the person's language.
        over = await upload(member, dept.kb["id"], "超過.txt", b"x" * (FILE_LIMIT + 1))
        assert over.status_code == 422, over.text
        assert over.json()["error"] == {
            "code": "file_too_large",
            "message": "ファイルが大きすぎます。上限を超えるファイルは取り込めません。",
        }
        # Far over it: refused before the body is read.
        far = await upload(member, dept.kb["id"], "巨大.txt", b"x" * (FILE_LIMIT + (1 << 20)))
        assert far.status_code == 413 and error_code(far) == "file_too_large"

        await indexed(world)
        [doc] = await documents_of(member, dept.kb["id"])
        assert doc["filename"] == "大きな資料.txt" and doc["status"] == "ready", doc
        hits = await hits_of(member, dept.kb["id"], "大きな資料の本文")
        assert hits and hits[0]["document_id"] == doc["id"]


async def test_a_file_far_over_the_limit_is_refused_with_a_clear_reason(world: World) -> None:
    dept = await new_department(world)
    async with world.live.signed_in(dept.member) as member:
        far = await upload(member, dept.kb["id"], "巨大.txt", b"x" * (FILE_LIMIT + (1 << 20)))
    assert far.status_code in (413, 422)
    assert far.json()["error"] == {
        "code": "file_too_large",
        "message": "ファイルが大きすぎます。上限を超えるファイルは取り込めません。",
    }


async def test_a_new_version_replaces_the_old_and_a_removed_one_is_gone_at_once(
    world: World,
) -> None:
    dept = await new_department(world)
    kb_id = dept.kb["id"]
    old = "# 臨時窓口\n\n臨時窓口は体育館に開設する。\n"
    async with world.live.signed_in(dept.member) as member:
        first = (await upload(member, kb_id, "臨時.md", old.encode())).json()
        await indexed(world)
        assert any("体育館" in h["text"] for h in await hits_of(member, kb_id, "臨時窓口"))

        new = old.replace("体育館に開設する", "図書室に移転した")
        second = await upload(member, kb_id, "臨時.md", new.encode())
        assert second.status_code == 202 and second.json()["id"] == first["id"]
        await indexed(world)
        texts = [h["text"] for h in await hits_of(member, kb_id, "臨時窓口")]
        assert any("図書室" in t for t in texts) and not any("体育館" in t for t in texts)
        # (体育館 and 図書室 share no term: the old text is not matched by any part of it.)
        assert await hits_of(member, kb_id, "体育館") == []
        [doc] = await documents_of(member, kb_id)
        assert doc["id"] == first["id"] and doc["status"] == "ready"

        removed = await member.delete(f"/api/kbs/{kb_id}/documents/{doc['id']}")
        assert removed.status_code == 204
        # No waiting: the removal is committed with the keyword index.
        assert await hits_of(member, kb_id, "臨時窓口 図書室") == []
        assert await documents_of(member, kb_id) == []
        again = await member.delete(f"/api/kbs/{kb_id}/documents/{doc['id']}")
        assert again.status_code == 404


async def test_the_same_bytes_again_change_nothing(world: World) -> None:
    dept = await new_department(world)
    data = "# 同じ\n\n同じ内容の文書。\n".encode()
    async with world.live.signed_in(dept.member) as member:
        await upload(member, dept.kb["id"], "同じ.md", data)
        await indexed(world)
        [before] = await documents_of(member, dept.kb["id"])
        again = await upload(member, dept.kb["id"], "同じ.md", data)
        assert again.status_code == 202 and again.json()["status"] == "ready"
        await indexed(world)
        [after] = await documents_of(member, dept.kb["id"])
    assert after == before
