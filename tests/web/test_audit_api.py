"""The auditors' API over the audit trail and the auditors' page: who may read what, the
filters, that reading content and exporting are themselves recorded, that exports verify
offline, and that nothing can edit the trail."""

from __future__ import annotations

import csv
import errno
import hashlib
import io
import json
import tempfile
import zipfile
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from mamori.app import create_app
from mamori.audit.offline import verify_export
from mamori.domain.principal import Role
from mamori.web import i18n
from mamori.web.routers.audit_pages import AUDIT_KEYS
from tests.web.conftest import MODEL, Live, isolated_settings


async def asker_with_turns(live: Live, turns: int = 2) -> str:
    username = await live.new_user()
    await live.chat_turns(username, *(f"質問{n}" for n in range(turns)))
    return username


async def test_only_auditors_read_the_trail(live: Live) -> None:
    admin = await live.new_user(Role.ADMIN)
    for username in (admin, None):
        async with live.signed_in(username) as client:
            for path in ("/api/audit/records", "/api/audit/records/1", "/api/audit/chain"):
                response = await client.get(path)
                assert response.status_code == 403, (username, path)
            assert (await client.get("/api/audit/export")).status_code == 403
            assert (await client.post("/api/audit/chain/verify")).status_code == 403
            assert (await client.get("/audit")).status_code == 403
            assert 'href="/audit"' not in (await client.get("/")).text
    async with httpx.AsyncClient(base_url=live.base_url) as anonymous:
        assert (await anonymous.get("/api/audit/records")).status_code == 401


async def test_auditor_searches_and_reads_one_record(live: Live) -> None:
    asker = await asker_with_turns(live)
    auditor = await live.new_user(Role.AUDITOR)
    today = datetime.now(live.services.settings.zone).date()
    async with live.signed_in(auditor) as client:
        found = (await client.get("/api/audit/records", params={"user": asker})).json()
        assert [r["username"] for r in found["records"]] == [asker, asker]
        assert found["records"][0]["seq"] > found["records"][1]["seq"]  # newest first
        assert found["records"][0]["model"] == MODEL and found["next_before"] is None
        paged = (await client.get("/api/audit/records", params={"user": asker, "limit": 1})).json()
        assert len(paged["records"]) == 1 and paged["next_before"] == found["records"][0]["seq"]
        rest = await client.get(
            "/api/audit/records", params={"user": asker, "before": paged["next_before"]}
        )
        assert [r["seq"] for r in rest.json()["records"]] == [found["records"][1]["seq"]]
        day = {"user": asker, "since": today.isoformat(), "until": today.isoformat()}
        assert len((await client.get("/api/audit/records", params=day)).json()["records"]) == 2
        tomorrow = (today + timedelta(days=1)).isoformat()
        later = {"user": asker, "since": tomorrow}
        assert (await client.get("/api/audit/records", params=later)).json()["records"] == []
        other = {"user": asker, "model": "no-such-model"}
        assert (await client.get("/api/audit/records", params=other)).json()["records"] == []
        by_class = {"user": asker, "classification": found["records"][0]["classification"]}
        assert len((await client.get("/api/audit/records", params=by_class)).json()["records"]) == 2
        bad = await client.get("/api/audit/records", params={"since": "yesterday"})
        assert bad.status_code == 400

        seq = found["records"][0]["seq"]
        detail = (await client.get(f"/api/audit/records/{seq}")).json()
        assert detail["seq"] == seq and detail["username"] == asker
        assert len(detail["record_hash"]) == 64 and len(detail["prev_hash"]) == 64
        assert detail["decisions"] is None or isinstance(detail["decisions"], list | dict)
        assert isinstance(detail["content_kept"], bool)
        assert (await client.get("/api/audit/records/999999999")).status_code == 404


async def test_reading_content_is_itself_recorded(live: Live) -> None:
    asker = await asker_with_turns(live, 1)
    auditor = await live.new_user(Role.AUDITOR)
    async with live.signed_in(auditor) as client:
        records = (await client.get("/api/audit/records", params={"user": asker})).json()
        seq = records["records"][0]["seq"]
        detail = (await client.get(f"/api/audit/records/{seq}")).json()
        content = await client.get(f"/api/audit/records/{seq}/content")
    assert content.status_code == 200
    body = content.json()
    assert body["seq"] == seq and body["kept"] is True and detail["content_kept"] is True
    assert "質問0" in body["prompt"]
    assert hashlib.sha256(body["answer"].encode()).hexdigest() == detail["answer_hash"]
    records = await live.audit_rows(user_id=(await live.user_row(auditor)).id)
    assert [(r.action, r.subject) for r in records] == [("audit.content_read", str(seq))]


async def test_chain_status_and_verification(live: Live) -> None:
    await asker_with_turns(live, 1)
    auditor = await live.new_user(Role.AUDITOR)
    async with live.signed_in(auditor) as client:
        chain = (await client.get("/api/audit/chain")).json()
        assert chain["head_seq"] > 0
        assert chain["key_id"] == live.services.checkpointer.signer.key_id
        verified = await client.post("/api/audit/chain/verify")
        assert verified.status_code == 200 and verified.json()["ok"] is True
        assert verified.json()["checked"] >= chain["head_seq"]
        after = (await client.get("/api/audit/chain")).json()
    assert after["latest_verification"]["ok"] is True
    assert after["latest_verification"]["checked"] == verified.json()["checked"]


async def test_exports_verify_offline_and_are_recorded(live: Live) -> None:
    asker = await asker_with_turns(live, 1)
    auditor = await live.new_user(Role.AUDITOR)
    today = datetime.now(live.services.settings.zone).date().isoformat()
    key = live.services.checkpointer.signer.public
    async with live.signed_in(auditor) as client:
        exported = await client.get(
            "/api/audit/export", params={"since": today, "until": today, "content": "true"}
        )
        as_csv = await client.get("/api/audit/export", params={"format": "csv"})
        bad_format = await client.get("/api/audit/export", params={"format": "xml"})
        csv_content = await client.get(
            "/api/audit/export", params={"format": "csv", "content": "1"}
        )
        backwards = await client.get(
            "/api/audit/export", params={"since": today, "until": "2000-01-01"}
        )

    assert exported.status_code == 200, exported.text
    assert exported.headers["content-disposition"].startswith('attachment; filename="mamori-audit-')
    lines = exported.content.splitlines()
    check = verify_export(lines, [key])
    assert check.ok and check.records == int(exported.headers["x-mamori-records"]) > 0
    records = [json.loads(line) for line in lines if b'"type":"record"' in line]
    mine = [r for r in records if r["username"] == asker]
    assert len(mine) == 1 and "質問0" in mine[0]["content"]["prompt"]

    assert as_csv.status_code == 200 and as_csv.headers["content-type"] == "application/zip"
    with zipfile.ZipFile(io.BytesIO(as_csv.content)) as archive:
        names = sorted(archive.namelist())
        assert len(names) == 2 and names[1] == names[0] + ".verify.jsonl"
        table = archive.read(names[0])
        sidecar = archive.read(names[1]).splitlines()
    assert table.startswith(b"\xef\xbb\xbf")  # Excel reads Japanese only with the BOM
    rows = list(csv.DictReader(io.StringIO(table.decode("utf-8-sig"))))
    header = json.loads(sidecar[0])
    assert header["public_keys"][0]["public_key"] == key.hex
    previous = header["prev_hash"]
    for row in rows:  # every row verifies from its own canonical column, in an unbroken chain
        assert hashlib.sha256(row["canonical"].encode()).hexdigest() == row["record_hash"]
        assert row["prev_hash"] == previous
        previous = row["record_hash"]
    assert asker in {row["username"] for row in rows}

    assert bad_format.status_code == 400 and csv_content.status_code == 400
    assert backwards.status_code == 400
    acts = await live.audit_rows(user_id=(await live.user_row(auditor)).id)
    assert [r.action for r in acts] == ["audit.export", "audit.export"]  # newest first
    assert acts[1].subject.startswith("jsonl:") and acts[1].subject.endswith(":content")
    assert acts[0].subject.startswith("csv:") and not acts[0].subject.endswith(":content")


def test_no_route_edits_or_deletes_audit_records(tmp_path: Path) -> None:
    app = create_app(isolated_settings(tmp_path))
    # FastAPI keeps each included router whole; its routes carry their full paths.
    routes = [
        route
        for included in app.routes
        for route in getattr(getattr(included, "original_router", None), "routes", [included])
    ]
    audit_routes = [r for r in routes if getattr(r, "path", "").startswith("/api/audit")]
    paths = {getattr(r, "path", "") for r in audit_routes}
    assert {"/api/audit/records", "/api/audit/records/{seq}/content", "/api/audit/export"} <= paths
    for route in audit_routes:
        methods = getattr(route, "methods", None) or set()
        assert not methods & {"PUT", "PATCH", "DELETE"}, route
        if "POST" in methods:
            assert getattr(route, "path", "") == "/api/audit/chain/verify"


def test_page_strings_exist_in_both_catalogs() -> None:
    for key in AUDIT_KEYS:
        for lang in i18n.SUPPORTED:
            assert key in i18n.catalog(lang), (lang, key)


async def test_audit_page_for_auditors_and_usage_link_for_everyone(live: Live) -> None:
    async with httpx.AsyncClient(base_url=live.base_url) as anonymous:
        response = await anonymous.get("/audit")
    assert response.status_code == 303 and response.headers["location"] == "/login?next=/audit"
    async with live.signed_in(await live.new_user(Role.AUDITOR)) as client:
        client.cookies.set("mamori_lang", "ja")
        page = await client.get("/audit")
        chat = await client.get("/")
    assert page.status_code == 200
    for hook in ("audit-search", "audit-records", "audit-detail", "audit-chain", "audit-export"):
        assert f'id="{hook}"' in page.text, hook
    assert "js/audit_page.js" in page.text and 'id="page-strings"' in page.text
    assert 'href="/audit"' in chat.text and 'href="/usage"' in chat.text
    assert "監査" in chat.text and "利用状況" in chat.text


async def test_an_export_on_a_full_disk_says_so_and_stays_recorded(
    live: Live, monkeypatch: pytest.MonkeyPatch
) -> None:
    class FullDisk(io.BytesIO):
        def write(self, data: Any) -> int:
            raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(tempfile, "SpooledTemporaryFile", lambda **_: FullDisk())
    auditor = await live.new_user(Role.AUDITOR)
    async with live.signed_in(auditor) as client:
        client.cookies.set("mamori_lang", "ja")
        response = await client.get("/api/audit/export")
    assert response.status_code == 507
    error = response.json()["error"]
    assert error["code"] == "storage_full" and "ディスク" in error["message"]
    acts = await live.audit_rows(user_id=(await live.user_row(auditor)).id)
    assert [r.action for r in acts] == ["audit.export"]  # the attempt is on the record
    async with live.signed_in(auditor) as client:
        assert (await client.post("/api/audit/chain/verify")).json()["ok"] is True
