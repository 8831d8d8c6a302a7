"""Who may do what with a knowledge base, decided on the server: outsiders find no trace of
another group's base, readers read, writers change documents, only an administrator manages,
and nothing answers without a session or changes state without the CSRF header.
"""

from __future__ import annotations

import uuid
from typing import Any

import httpx
import pytest

from mamori.web.session import CSRF_HEADER
from tests.web.conftest import upload
from tests.web.kb_access.world import (
    A_MARK,
    SHARED,
    Department,
    Doc,
    World,
    documents_of,
    error_code,
    hits_of,
    indexed,
    new_department,
    new_group,
    unique,
)


async def test_the_fixture_documents_are_indexed(world: World) -> None:
    async with world.live.signed_in(world.a.member) as member:
        [doc] = await documents_of(member, world.a.kb["id"])
        assert doc["id"] == world.a_doc["id"] and doc["status"] == "ready"
        assert doc["chunks"] >= 1 and doc["held_back"] == 0
        hits = await hits_of(member, world.a.kb["id"], SHARED)
        assert hits and all(A_MARK in h["text"] for h in hits)


# --- 1. who may do what -----------------------------------------------------------------------

# Every route about one knowledge base: method, path ({kb}, {doc}, {group} filled in), body.
KB_ROUTES: list[tuple[str, str, Any]] = [
    ("GET", "/api/kbs/{kb}", None),
    ("DELETE", "/api/kbs/{kb}", None),
    ("PUT", "/api/kbs/{kb}/access", {"group": "{group}"}),
    ("DELETE", "/api/kbs/{kb}/access/{group_id}", None),
    ("GET", "/api/kbs/{kb}/documents", None),
    ("PUT", "/api/kbs/{kb}/documents?filename=x.md", b"# x\n\nx\n"),
    ("DELETE", "/api/kbs/{kb}/documents/{doc}", None),
    ("POST", "/api/kbs/{kb}/reindex", None),
    ("GET", "/api/kbs/{kb}/search?q=" + SHARED, None),
]
ROUTE_IDS = [f"{m} {p.split('?')[0].removeprefix('/api/kbs/{kb}') or '/'}" for m, p, _ in KB_ROUTES]


def route_request(
    method: str, template: str, body: Any, dept: Department, doc: Doc
) -> dict[str, Any]:
    path = (
        template.replace("{kb}", dept.kb["id"])
        .replace("{doc}", doc["id"])
        .replace("{group_id}", dept.group_id)
    )
    request: dict[str, Any] = {"method": method, "url": path}
    if isinstance(body, bytes):
        request["content"] = body
    elif body is not None:
        request["json"] = {k: v.replace("{group}", dept.group) for k, v in body.items()}
    return request


@pytest.mark.parametrize(("method", "template", "body"), KB_ROUTES, ids=ROUTE_IDS)
async def test_an_outsider_finds_no_trace_of_another_groups_base(
    world: World, method: str, template: str, body: Any
) -> None:
    async with world.live.signed_in(world.outsider) as outsider:
        response = await outsider.request(
            **route_request(method, template, body, world.b, world.b_doc)
        )
        assert response.status_code == 404, response.text
        assert error_code(response) == "knowledge_base_not_found"
        # The same answer for a base that does not exist: ids cannot be probed.
        absent = Department(world.b.group, world.b.group_id, "", {"id": uuid.uuid4().hex})
        missing = await outsider.request(
            **route_request(method, template, body, absent, world.b_doc)
        )
        assert missing.status_code == 404 and error_code(missing) == "knowledge_base_not_found"
        # Nor by its name, which the other routes accept in place of the id.
        by_name = Department(world.b.group, world.b.group_id, "", {"id": world.b.kb["name"]})
        named = await outsider.request(
            **route_request(method, template, body, by_name, world.b_doc)
        )
        assert named.status_code == 404
    async with world.live.signed_in(world.b.member) as owner:
        # Nothing the outsider sent changed anything.
        [doc] = await documents_of(owner, world.b.kb["id"])
        assert doc["id"] == world.b_doc["id"] and doc["status"] == "ready"
        detail = (await owner.get(f"/api/kbs/{world.b.kb['id']}")).json()
        assert [e["group"] for e in detail["access"]] == [world.b.group]


async def test_the_list_shows_a_non_admin_only_what_they_may_read(world: World) -> None:
    async def listed(username: str) -> dict[str, Any]:
        async with world.live.signed_in(username) as client:
            response = await client.get("/api/kbs")
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    outsider = await listed(world.outsider)
    assert outsider == {"knowledge_bases": [], "can_manage": False}
    reader = await listed(world.reader)
    assert [(k["id"], k["can_read"], k["can_write"]) for k in reader["knowledge_bases"]] == [
        (world.a.kb["id"], True, False)
    ]
    writer = await listed(world.writer)
    assert [(k["id"], k["can_write"]) for k in writer["knowledge_bases"]] == [
        (world.a.kb["id"], True)
    ]
    member = await listed(world.a.member)
    assert {k["id"] for k in member["knowledge_bases"]} == {
        world.a.kb["id"],
        world.secret_kb["id"],
    }
    assert member["can_manage"] is False
    admin = await listed(world.admin)
    assert admin["can_manage"] is True
    every = {k["id"]: k for k in admin["knowledge_bases"]}
    assert {world.a.kb["id"], world.b.kb["id"], world.secret_kb["id"]} <= set(every)
    # The administrator is in none of the groups: listed, writable, but not readable.
    assert every[world.b.kb["id"]]["can_read"] is False
    assert every[world.b.kb["id"]]["can_write"] is True


async def test_a_reader_lists_and_searches_but_changes_nothing(world: World) -> None:
    a_id = world.a.kb["id"]
    async with world.live.signed_in(world.reader) as reader:
        detail = await reader.get(f"/api/kbs/{a_id}")
        assert detail.status_code == 200
        assert detail.json()["can_read"] is True and detail.json()["can_write"] is False
        assert [d["id"] for d in await documents_of(reader, a_id)] == [world.a_doc["id"]]
        hits = await hits_of(reader, a_id, SHARED)
        assert hits and hits[0]["document_id"] == world.a_doc["id"] and A_MARK in hits[0]["text"]

        refused = await upload(reader, a_id, "r.md", b"# r\n\nr\n")
        assert refused.status_code == 403 and error_code(refused) == "kb_read_only"
        removed = await reader.delete(f"/api/kbs/{a_id}/documents/{world.a_doc['id']}")
        assert removed.status_code == 403 and error_code(removed) == "kb_read_only"
        reindex = await reader.post(f"/api/kbs/{a_id}/reindex")
        assert reindex.status_code == 403 and error_code(reindex) == "kb_read_only"
        # Managing is for administrators.
        for response in (
            await reader.delete(f"/api/kbs/{a_id}"),
            await reader.put(f"/api/kbs/{a_id}/access", json={"group": world.reader_group}),
            await reader.delete(f"/api/kbs/{a_id}/access/{world.reader_group_id}"),
            await reader.post(
                "/api/kbs",
                json={"name": unique("kb"), "group": world.reader_group, "classification": 1},
            ),
        ):
            assert response.status_code == 403, response.text
            assert error_code(response) == "forbidden"
        # Still as it was.
        [doc] = await documents_of(reader, a_id)
        assert doc["id"] == world.a_doc["id"] and doc["status"] == "ready"
        assert world.reader_group in [
            e["group"] for e in (await reader.get(f"/api/kbs/{a_id}")).json()["access"]
        ]


async def test_a_writer_uploads_removes_and_reindexes_but_does_not_manage(world: World) -> None:
    a_id = world.a.kb["id"]
    async with world.live.signed_in(world.writer) as writer:
        accepted = await upload(writer, a_id, "w.md", "# 追記\n\n書き込み係の文書。\n".encode())
        assert accepted.status_code == 202, accepted.text
        assert accepted.json()["status"] == "pending" and accepted.json()["kb_id"] == a_id
        await indexed(world)
        by_name = {d["filename"]: d for d in await documents_of(writer, a_id)}
        assert by_name["w.md"]["status"] == "ready"

        queued = await writer.post(f"/api/kbs/{a_id}/reindex")
        assert queued.status_code == 202 and queued.json() == {"queued": 2}
        await indexed(world)
        assert all(d["status"] == "ready" for d in await documents_of(writer, a_id))
        assert await hits_of(writer, a_id, "書き込み係")

        # A document of another base cannot be reached through this one.
        other = await writer.delete(f"/api/kbs/{a_id}/documents/{world.b_doc['id']}")
        assert other.status_code == 404
        removed = await writer.delete(f"/api/kbs/{a_id}/documents/{by_name['w.md']['id']}")
        assert removed.status_code == 204
        assert [d["id"] for d in await documents_of(writer, a_id)] == [world.a_doc["id"]]

        for response in (
            await writer.delete(f"/api/kbs/{a_id}"),
            await writer.put(f"/api/kbs/{a_id}/access", json={"group": world.reader_group}),
            await writer.delete(f"/api/kbs/{a_id}/access/{world.reader_group_id}"),
        ):
            assert response.status_code == 403 and error_code(response) == "forbidden"
    async with world.live.signed_in(world.b.member) as b_member:
        [doc] = await documents_of(b_member, world.b.kb["id"])
        assert doc["id"] == world.b_doc["id"]


async def test_only_an_admin_creates_grants_revokes_and_deletes(world: World) -> None:
    member = await world.live.new_user()
    group, group_id = await new_group(world, member)
    guest = await world.live.new_user()
    guests, guests_id = await new_group(world, guest)
    async with world.live.signed_in(world.admin) as admin:
        unknown = await admin.post(
            "/api/kbs", json={"name": unique("kb"), "group": "no-such-group", "classification": 1}
        )
        assert unknown.status_code == 404 and error_code(unknown) == "group_not_found"
        name = unique("kb")
        created = await admin.post(
            "/api/kbs",
            json={
                "name": name,
                "group": group,
                "classification": "機密性2",
                "description": " 説明 ",
            },
        )
        assert created.status_code == 201, created.text
        kb = created.json()
        assert kb["name"] == name and kb["owner_group_id"] == group_id
        assert kb["classification"] == 2 and kb["description"] == "説明"
        taken = await admin.post(
            "/api/kbs", json={"name": name, "group": group, "classification": 1}
        )
        assert taken.status_code == 409
        kb_path = f"/api/kbs/{kb['id']}"

        nobody = await admin.put(f"{kb_path}/access", json={"group": "no-such-group"})
        assert nobody.status_code == 404 and error_code(nobody) == "group_not_found"
        granted = await admin.put(f"{kb_path}/access", json={"group": guests})
        assert granted.status_code == 200
        access = {e["group"]: e for e in granted.json()["access"]}
        assert access[group]["owner"] is True and access[group]["can_write"] is True
        assert access[guests] == {
            "group_id": guests_id,
            "group": guests,
            "can_write": False,
            "owner": False,
        }
        promoted = await admin.put(f"{kb_path}/access", json={"group": guests, "can_write": True})
        assert [e["can_write"] for e in promoted.json()["access"] if e["group"] == guests] == [True]

        owner = await admin.delete(f"{kb_path}/access/{group_id}")
        assert owner.status_code == 400 and error_code(owner) == "owner_access"
        assert "所有グループ" in owner.json()["error"]["message"]
        # Nor can a grant demote it to read-only (a grant replaces the entry).
        demoted = await admin.put(f"{kb_path}/access", json={"group": group_id})
        assert demoted.status_code == 400 and error_code(demoted) == "owner_access"
        kept = {e["group"]: e for e in (await admin.get(kb_path)).json()["access"]}
        assert kept[group]["can_write"] is True
        # A group given by id, as by name.
        by_id = await admin.put(f"{kb_path}/access", json={"group": guests_id})
        assert by_id.status_code == 200
    async with world.live.signed_in(guest) as client:
        assert (await client.get(f"{kb_path}/search", params={"q": "何か"})).status_code == 200
    async with world.live.signed_in(world.admin) as admin:
        revoked = await admin.delete(f"{kb_path}/access/{guests_id}")
        assert revoked.status_code == 204
        again = await admin.delete(f"{kb_path}/access/{guests_id}")
        assert again.status_code == 404
        detail = (await admin.get(kb_path)).json()
        assert [e["group"] for e in detail["access"]] == [group]
    async with world.live.signed_in(guest) as client:
        gone = await client.get(f"{kb_path}/search", params={"q": "何か"})
        assert gone.status_code == 404 and error_code(gone) == "knowledge_base_not_found"
    async with world.live.signed_in(member) as client:
        assert (
            await upload(client, kb["id"], "m.md", "# m\n\n削除前の文書。\n".encode())
        ).status_code == 202
        await indexed(world)
        assert await hits_of(client, kb["id"], "削除前の文書")
    async with world.live.signed_in(world.admin) as admin:
        # Administrators run the installation; they do not read departments' documents.
        search = await admin.get(f"{kb_path}/search", params={"q": "削除前の文書"})
        assert search.status_code == 404
        assert (await admin.delete(kb_path)).status_code == 204
        assert (await admin.get(kb_path)).status_code == 404
        assert (await admin.delete(kb_path)).status_code == 404
    async with world.live.signed_in(member) as client:
        assert (
            await client.get(f"{kb_path}/search", params={"q": "削除前の文書"})
        ).status_code == 404
        assert (await client.get("/api/kbs")).json()["knowledge_bases"] == []


async def test_a_base_may_be_created_for_a_group_given_by_id(world: World) -> None:
    _, group_id = await new_group(world)
    async with world.live.signed_in(world.admin) as admin:
        created = await admin.post(
            "/api/kbs", json={"name": unique("kb"), "group": group_id, "classification": 1}
        )
    assert created.status_code == 201, created.text
    assert created.json()["owner_group_id"] == group_id


ALL_ROUTES: list[tuple[str, str, Any]] = [
    ("GET", "/api/kbs", None),
    ("POST", "/api/kbs", {"name": "x", "group": "{group}", "classification": "機密性1"}),
    *KB_ROUTES,
]


@pytest.mark.parametrize(
    ("method", "template", "body"), ALL_ROUTES, ids=["GET /api/kbs", "POST /api/kbs", *ROUTE_IDS]
)
async def test_no_route_answers_without_a_session(
    world: World, method: str, template: str, body: Any
) -> None:
    async with httpx.AsyncClient(base_url=world.live.base_url, timeout=30) as anonymous:
        response = await anonymous.request(
            **route_request(method, template, body, world.a, world.a_doc)
        )
    assert response.status_code == 401, response.text
    assert error_code(response) == "unauthenticated"


STATE_CHANGING = [r for r in ALL_ROUTES if r[0] != "GET"]


@pytest.mark.parametrize(
    ("method", "template", "body"),
    STATE_CHANGING,
    ids=[f"{m} {p.split('?')[0]}" for m, p, _ in STATE_CHANGING],
)
async def test_no_state_changes_without_the_csrf_header(
    world: World, method: str, template: str, body: Any
) -> None:
    dept = await new_department(world)
    guests, _ = await new_group(world)
    name = unique("kb")
    if isinstance(body, dict):
        body = {**body, "name": name}
    async with (
        world.live.signed_in(dept.member) as member,
        world.live.signed_in(world.admin) as admin,
    ):
        uploaded = await upload(member, dept.kb["id"], "c.md", "# c\n\n消えない文書。\n".encode())
        assert uploaded.status_code == 202
        await indexed(world)
        doc = uploaded.json()
        # The administrator may do all of these, so only the header's absence refuses them.
        granted = await admin.put(f"/api/kbs/{dept.kb['id']}/access", json={"group": guests})
        assert granted.status_code == 200
        guest_entry = next(e for e in granted.json()["access"] if e["group"] == guests)
        target = Department(dept.group, guest_entry["group_id"], dept.member, dept.kb)
        token = admin.headers[CSRF_HEADER]
        for presented in ("", member.headers[CSRF_HEADER], None):
            if presented is None:
                del admin.headers[CSRF_HEADER]
            else:
                admin.headers[CSRF_HEADER] = presented  # empty, or another session's
            response = await admin.request(**route_request(method, template, body, target, doc))
            assert response.status_code == 403, (presented, response.text)
            assert error_code(response) == "csrf_failed"
        admin.headers[CSRF_HEADER] = token
        await indexed(world)
        detail = (await admin.get(f"/api/kbs/{dept.kb['id']}")).json()
        assert {e["group"] for e in detail["access"]} == {dept.group, guests}
        assert [(d["id"], d["filename"]) for d in detail["documents"]] == [(doc["id"], "c.md")]
        listed = (await admin.get("/api/kbs")).json()["knowledge_bases"]
        assert name not in {k["name"] for k in listed}
        hits = await hits_of(member, dept.kb["id"], "消えない文書")
        assert [h["document_id"] for h in hits] == [doc["id"]]
