"""Roles around the audit trail: auditors read it and nothing more; nobody can rewrite it."""

from __future__ import annotations

from pathlib import Path

import pytest

from mamori.app import create_app
from mamori.domain.principal import Role
from mamori.settings import Settings
from mamori.store import ConflictError
from mamori.store.repos import audit
from tests.web.conftest import MODEL, Live


async def test_an_auditor_reads_reasoning_but_changes_no_settings(live: Live) -> None:
    auditor = await live.new_user(Role.AUDITOR)
    asker = await live.new_user()
    async with live.signed_in(asker) as client:
        conversation = (await client.post("/api/conversations", json={})).json()["id"]
        path = f"/api/conversations/{conversation}/messages"
        assert (
            await client.post(path, json={"model": MODEL, "content": "質問"})
        ).status_code == 200
    user = await live.user_row(asker)
    [record] = await live.audit_when_written(user.id)
    async with live.signed_in(auditor) as client:
        read = await client.get(f"/api/audit/turns/{record.turn_id}/reasoning")
        assert read.status_code == 200 and read.json()["asked_by"] == asker
        # The policy and what it would decide are administrators' business.
        assert (await client.get("/api/admin/policy")).status_code == 403
        explain = await client.post("/api/admin/policy/explain", json={"model": MODEL})
        assert explain.status_code == 403
        assert (await client.get("/admin/policy")).status_code == 403
        # Another person's conversation is out of reach, to read or to write into.
        assert (await client.get(f"{path}")).status_code == 404
        sent = await client.post(path, json={"model": MODEL, "content": "なりすまし"})
        assert sent.status_code == 404


def test_no_route_edits_or_deletes_audit_records(tmp_path: Path) -> None:
    app = create_app(Settings(data_dir=tmp_path, local_engine=False, bootstrap_admin=False))
    audit_paths = 0
    # FastAPI keeps each included router whole; its routes carry their full paths.
    routes = [
        route
        for included in app.routes
        for route in getattr(getattr(included, "original_router", None), "routes", [included])
    ]
    for route in routes:
        path = getattr(route, "path", "")
        methods = getattr(route, "methods", None) or set()
        if "audit" in path:
            audit_paths += 1
            assert methods <= {"GET", "HEAD", "POST"}, (path, methods)
            if "POST" in methods:
                # Verifying the chain is the only thing an auditor may ask to be done.
                assert path.endswith("/verify"), path
    assert audit_paths >= 1


async def test_the_database_refuses_to_rewrite_audit_records(live: Live) -> None:
    from sqlalchemy import text

    with pytest.raises(ConflictError, match="append-only"):
        await live.services.db.write(
            lambda c: c.execute(text("UPDATE audit_records SET username = 'x'"))
        )
    with pytest.raises(ConflictError, match="append-only"):
        await live.services.db.write(lambda c: c.execute(text("DELETE FROM audit_records")))
    assert await live.services.db.read(audit.count_audit) >= 0
