"""The usage API and page: everyone sees their own month; administrators and auditors see
anyone's, per group and user, and download it as CSV with a BOM."""

from __future__ import annotations

import csv
import io

from mamori.domain.principal import Role
from mamori.store.repos import groups
from tests.web.conftest import MODEL, Live
from tests.web.test_audit_api import asker_with_turns

CSV_HEADER = [
    "day",
    "user",
    "api_key_id",
    "model",
    "requests",
    "prompt_tokens",
    "completion_tokens",
    "total_tokens",
    "estimated_requests",
]


def csv_rows(body: bytes) -> list[list[str]]:
    assert body.startswith(b"\xef\xbb\xbf")  # Excel reads Japanese only with the BOM
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"))))


async def test_a_user_sees_only_their_own_usage(live: Live) -> None:
    asker = await asker_with_turns(live, 2)
    other = await asker_with_turns(live, 1)
    async with live.signed_in(asker) as client:
        mine = (await client.get("/api/usage")).json()
        own_csv = await client.get("/api/usage/report.csv")
        assert (await client.get("/api/usage", params={"user": other})).status_code == 403
        assert (await client.get("/api/usage", params={"group": "x"})).status_code == 403
        refused = await client.get("/api/usage/report.csv", params={"user": other})
        assert refused.status_code == 403
        assert (await client.get("/api/usage", params={"month": "2026-13"})).status_code == 400
        page = await client.get("/usage")
    assert [u["username"] for u in mine["by_user"]] == [asker]
    assert mine["by_user"][0]["requests"] == 2 == mine["total_requests"]
    assert sum(d["requests"] for d in mine["days"]) == 2
    assert mine["total_tokens"] == sum(d["tokens"] for d in mine["days"]) > 0
    assert [m["model"] for m in mine["by_model"]] == [MODEL] and mine["by_group"] == []
    rows = csv_rows(own_csv.content)
    assert rows[0] == CSV_HEADER and {row[1] for row in rows[1:]} == {asker}
    assert page.status_code == 200 and 'id="usage-chart"' in page.text
    assert 'id="usage-users"' not in page.text and 'id="usage-csv"' in page.text


async def test_admins_and_auditors_see_everyone_by_group_and_download_csv(live: Live) -> None:
    asker = await live.new_user()
    group = await live.services.db.write(
        groups.create_group, name=f"g-{asker}", display_name="税務課"
    )
    await live.services.accounts.set_membership(group.name, asker, member=True)
    await live.chat_turns(asker, "グループで質問")
    for role in (Role.ADMIN, Role.AUDITOR):
        async with live.signed_in(await live.new_user(role)) as client:
            one = (await client.get("/api/usage", params={"user": asker})).json()
            everyone = (await client.get("/api/usage")).json()
            by_group = (await client.get("/api/usage", params={"group": group.name})).json()
            report = await client.get("/api/usage/report.csv", params={"group": group.name})
            missing = await client.get("/api/usage", params={"group": "no-such-group"})
        assert [u["username"] for u in one["by_user"]] == [asker]
        assert asker in {u["username"] for u in everyone["by_user"]}
        assert {"group": group.name, "requests": 1}.items() <= next(
            g for g in everyone["by_group"] if g["group"] == group.name
        ).items()
        assert [u["username"] for u in by_group["by_user"]] == [asker]
        assert by_group["by_group"] == []  # the breakdown is of everyone's usage only
        assert report.status_code == 200
        assert "filename*=UTF-8''mamori-usage-" in report.headers["content-disposition"]
        rows = csv_rows(report.content)
        assert rows[0] == CSV_HEADER and [row[1] for row in rows[1:]] == [asker]
        assert missing.status_code == 404
