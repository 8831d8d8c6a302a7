"""`mamori audit verify`: ok on an untouched trail; exit 1 naming the first bad record."""

from __future__ import annotations

import functools
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from mamori.cli import main
from mamori.store import Database, upgrade
from mamori.store.repos.audit import append_audit
from tests.store.test_usage_audit import _record
from tests.support.tamper import tamper


def test_verify_reports_the_first_tampered_record(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MAMORI_CONFIG", raising=False)
    env = {"MAMORI_DATA_DIR": str(tmp_path / "data")}
    (tmp_path / "data").mkdir()
    db = Database(f"sqlite:///{tmp_path / 'data' / 'mamori.db'}")
    upgrade(db)
    for i in range(3):
        db.write_sync(functools.partial(append_audit, record=_record(f"t{i}", "u1")))
    runner = CliRunner()
    ok = runner.invoke(main, ["audit", "verify"], env=env)
    assert ok.exit_code == 0 and "ok: 3 records" in ok.output
    db.write_sync(tamper, "UPDATE audit_records SET username = 'x' WHERE seq = 2")
    db.dispose()
    bad = runner.invoke(main, ["audit", "verify"], env=env)
    assert bad.exit_code == 1 and "FAILED at record 2" in bad.output
    assert runner.invoke(main, ["audit", "verify", "--to", "1"], env=env).exit_code == 0


def test_checkpoint_export_and_offline_verification(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MAMORI_CONFIG", raising=False)
    env = {"MAMORI_DATA_DIR": str(tmp_path / "data")}
    (tmp_path / "data").mkdir()
    db = Database(f"sqlite:///{tmp_path / 'data' / 'mamori.db'}")
    upgrade(db)
    for i in range(4):
        db.write_sync(functools.partial(append_audit, record=_record(f"t{i}", "u1")))
    runner = CliRunner()
    signed = runner.invoke(main, ["audit", "checkpoint"], env=env)
    assert signed.exit_code == 0 and "checkpoint at record 4" in signed.output
    key_id = signed.output.split("key id: ")[1].strip()
    out = tmp_path / "export.jsonl"
    exported = runner.invoke(main, ["audit", "export", "-o", str(out)], env=env)
    assert exported.exit_code == 0, exported.output
    header = json.loads(out.read_text().splitlines()[0])
    assert header["public_keys"][0]["key_id"] == key_id
    key = header["public_keys"][0]["public_key"]
    checked = runner.invoke(main, ["audit", "verify-export", str(out), "--key", key], env=env)
    assert checked.exit_code == 0 and "4 records, 1 checkpoints verify" in checked.output
    db.write_sync(tamper, "DELETE FROM audit_records WHERE seq = 4")
    db.dispose()
    cut = runner.invoke(main, ["audit", "verify"], env=env)
    assert cut.exit_code == 1 and "FAILED at record 4" in cut.output and "truncated" in cut.output
    csv_out = tmp_path / "export.csv"
    as_csv = runner.invoke(
        main, ["audit", "export", "--format", "csv", "-o", str(csv_out)], env=env
    )
    assert as_csv.exit_code == 0 and (tmp_path / "export.csv.verify.jsonl").is_file()
