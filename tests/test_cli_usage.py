"""`mamori quota set` and `mamori usage report`: limits stored, usage by group as CSV."""

from __future__ import annotations

import csv
import functools
import io
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from mamori.cli import main
from mamori.domain.principal import Role
from mamori.store import Database, upgrade
from mamori.store.repos import groups, quotas, usage, users


def test_quota_and_usage_report_by_group(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MAMORI_CONFIG", raising=False)
    env = {"MAMORI_DATA_DIR": str(tmp_path / "data")}
    (tmp_path / "data").mkdir()
    db = Database(f"sqlite:///{tmp_path / 'data' / 'mamori.db'}")
    upgrade(db)
    clerk = db.write_sync(users.create_user, username="clerk", password_hash="h", roles=[Role.USER])
    other = db.write_sync(users.create_user, username="other", password_hash="h", roles=[Role.USER])
    tax = db.write_sync(groups.create_group, name="tax", display_name="税務課")
    at = datetime(2026, 12, 3, 2, tzinfo=UTC)
    for user_id, group_ids, tokens in ((clerk.id, [tax.id], 30), (other.id, [], 50)):
        for _ in range(2):
            db.write_sync(
                functools.partial(
                    usage.record_usage,
                    turn_id="t",
                    user_id=user_id,
                    api_key_id=None,
                    model="gpt-oss-120b",
                    endpoint="gpu1",
                    prompt_tokens=tokens,
                    completion_tokens=10,
                    estimated=False,
                    at=at,
                    day=date(2026, 12, 3),
                    group_ids=group_ids,
                )
            )
    db.dispose()
    runner = CliRunner()
    set_quota = ["quota", "set", "--group", "tax", "--daily-tokens", "1000", "--rpm", "5"]
    assert runner.invoke(main, set_quota, env=env).exit_code == 0
    report = runner.invoke(
        main, ["usage", "report", "--group", "tax", "--month", "2026-12"], env=env
    )
    assert report.exit_code == 0, report.output
    rows = list(csv.DictReader(io.StringIO(report.output)))
    assert [(r["day"], r["user"], r["requests"], r["total_tokens"]) for r in rows] == [
        ("2026-12-03", "clerk", "2", "80")
    ]
    everyone = runner.invoke(main, ["usage", "report", "--month", "2026-12"], env=env)
    assert len(list(csv.DictReader(io.StringIO(everyone.output)))) == 2
    assert runner.invoke(main, ["usage", "report", "--month", "2026-13"], env=env).exit_code != 0
    db = Database(f"sqlite:///{tmp_path / 'data' / 'mamori.db'}")
    stored = db.read_sync(quotas.get_quota, quotas.GROUP, tax.id)
    assert stored is not None and (stored.daily_tokens, stored.requests_per_minute) == (1000, 5)
    db.dispose()
