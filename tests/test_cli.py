"""The operator's command line, run in-process against a fresh data directory."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from mamori.accounts.credentials import hash_token, verify_password
from mamori.cli import main
from mamori.store.database import Database
from mamori.store.repos import api_keys, users
from tests.support.fake_upstream import FakeUpstream, Script


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.chdir(tmp_path)  # no stray mamori.toml
    monkeypatch.delenv("MAMORI_CONFIG", raising=False)
    return {"MAMORI_DATA_DIR": str(tmp_path / "data")}


@pytest.fixture
def fake_engine() -> Iterator[FakeUpstream]:
    fake = FakeUpstream(Script(model="gpt-oss-120b", content=("OK",)), models=("gpt-oss-120b",))
    fake.run_in_thread()
    yield fake
    fake.stop_thread()


def database(env: dict[str, str]) -> Database:
    return Database(f"sqlite:///{env['MAMORI_DATA_DIR']}/mamori.db")


def test_users_create_reads_the_password_from_stdin(env: dict[str, str]) -> None:
    result = CliRunner().invoke(
        main, ["users", "create", "tanaka", "--admin"], input="a-long-enough-password\n", env=env
    )
    assert result.exit_code == 0, result.output
    assert "a-long-enough-password" not in result.output
    user = database(env).read_sync(lambda c: users.get_user_by_username(c, "tanaka"))
    assert user is not None and "admin" in user.roles
    assert verify_password(user.password_hash, "a-long-enough-password")


def test_users_create_generates_and_prints_a_password_once(env: dict[str, str]) -> None:
    result = CliRunner().invoke(main, ["users", "create", "sato"], input="", env=env)
    assert result.exit_code == 0, result.output
    password = result.output.split("一度だけ表示): ")[1].strip()
    user = database(env).read_sync(lambda c: users.get_user_by_username(c, "sato"))
    assert user is not None and verify_password(user.password_hash, password)


def test_short_passwords_and_duplicates_are_refused(env: dict[str, str]) -> None:
    runner = CliRunner()
    short = runner.invoke(main, ["users", "create", "a"], input="short\n", env=env)
    assert short.exit_code != 0 and "12" in short.output
    runner.invoke(main, ["users", "create", "b"], input="a-long-enough-password\n", env=env)
    again = runner.invoke(main, ["users", "create", "b"], input="a-long-enough-password\n", env=env)
    assert again.exit_code != 0 and "already exists" in again.output


def test_keys_create_prints_the_key_once_and_stores_only_its_hash(env: dict[str, str]) -> None:
    runner = CliRunner()
    runner.invoke(main, ["users", "create", "kato"], input="a-long-enough-password\n", env=env)
    result = runner.invoke(main, ["keys", "create", "kato", "--name", "macro"], env=env)
    assert result.exit_code == 0, result.output
    key = result.stdout.strip().splitlines()[0]
    assert key.startswith("mk-")
    db = database(env)
    [row] = db.read_sync(lambda c: api_keys.list_api_keys(c))
    assert row.key_hash == hash_token(key) and key not in (row.key_hash, row.prefix)
    missing = runner.invoke(main, ["keys", "create", "nobody"], env=env)
    assert missing.exit_code != 0


def test_endpoints_add_list_test_remove(env: dict[str, str], fake_engine: FakeUpstream) -> None:
    runner = CliRunner()
    added = runner.invoke(
        main,
        [
            "endpoints",
            "add",
            "gpu1",
            "--url",
            fake_engine.base_url,
            "--dialect",
            "vllm",
            "--residency",
            "onprem",
            "--model",
            "gpt-oss-120b",
        ],
        env=env,
    )
    assert added.exit_code == 0, added.output
    listed = runner.invoke(main, ["endpoints", "list", "--no-probe"], env=env)
    assert listed.output.splitlines()[1].split()[:5] == [
        "gpu1",
        "cli",
        "onprem",
        "assumed:<=c3,contract,no-training",
        "vllm",
    ]
    tested = runner.invoke(main, ["endpoints", "test", "gpu1"], env=env)
    assert tested.exit_code == 0, tested.output
    assert "chat: ok" in tested.output and "'OK'" in tested.output
    assert runner.invoke(main, ["endpoints", "remove", "gpu1"], env=env).exit_code == 0
    assert "gpu1" not in runner.invoke(main, ["endpoints", "list"], env=env).output


def test_endpoints_test_reports_a_dead_engine(env: dict[str, str]) -> None:
    runner = CliRunner()
    runner.invoke(
        main,
        [
            "endpoints",
            "add",
            "dead",
            "--url",
            "http://127.0.0.1:9/v1",
            "--residency",
            "onprem",
            "--model",
            "m",
        ],
        env=env,
    )
    result = runner.invoke(main, ["endpoints", "test", "dead"], env=env)
    assert result.exit_code == 1
    assert "engine_unavailable" in result.output


def test_endpoints_list_probes_each_engine_and_shows_its_health(
    env: dict[str, str], fake_engine: FakeUpstream
) -> None:
    runner = CliRunner()
    adds = [
        ["gpu1", "--url", fake_engine.base_url, "--model", "gpt-oss-120b", "--model", "x=gone"],
        ["dead", "--url", "http://user:hunter2@127.0.0.1:9/v1", "--model", "gpt-oss-120b"],
    ]
    for args in adds:
        added = runner.invoke(main, ["endpoints", "add", *args, "--residency", "onprem"], env=env)
        assert added.exit_code == 0, added.output
    result = runner.invoke(main, ["endpoints", "list", "--timeout", "2"], env=env)
    assert result.exit_code == 0, result.output
    header, *rows = result.output.splitlines()
    columns = [header.index(name) for name in ("STATUS", "LATENCY", "ENGINE LISTS", "ERROR")]

    def cells(row: str) -> list[str]:
        bounds = [*columns, len(row) + 1]
        return [row[a:b].strip() for a, b in itertools.pairwise(bounds)]

    by_name = {row.split()[0]: cells(row) for row in rows}
    status, latency, listed, error = by_name["gpu1"]
    assert (status, listed, error) == ("reachable", "gpt-oss-120b", "not listed: gone")
    assert latency.endswith(" ms")
    status, latency, listed, error = by_name["dead"]
    assert (status, listed, error) == ("unreachable", "-", "engine_unavailable")
    assert "hunter2" not in result.output and "http://127.0.0.1:9/v1" in result.output
    # Probing is skipped on request: no engine is contacted.
    seen = len(fake_engine.requests)
    quiet = runner.invoke(main, ["endpoints", "list", "--no-probe"], env=env)
    assert "reachable" not in quiet.output and len(fake_engine.requests) == seen


def test_set_password_ends_existing_sessions(env: dict[str, str]) -> None:
    from datetime import UTC, datetime, timedelta

    from mamori.store.repos import sessions

    runner = CliRunner()
    runner.invoke(main, ["users", "create", "ito"], input="a-long-enough-password\n", env=env)
    db = database(env)
    user = db.read_sync(lambda c: users.get_user_by_username(c, "ito"))
    assert user is not None
    expires = datetime.now(UTC) + timedelta(hours=1)
    db.write_sync(
        lambda c: sessions.create_session(c, token_hash="t", user_id=user.id, expires_at=expires)
    )
    result = runner.invoke(
        main, ["users", "set-password", "ito"], input="another-long-password\n", env=env
    )
    assert result.exit_code == 0, result.output
    now = datetime.now(UTC)
    assert db.read_sync(lambda c: sessions.get_session_user(c, "t", now)) is None
    updated = db.read_sync(lambda c: users.get_user_by_username(c, "ito"))
    assert updated is not None and verify_password(updated.password_hash, "another-long-password")


def test_an_ollama_native_endpoint_is_added_and_answers(
    env: dict[str, str], fake_engine: FakeUpstream
) -> None:
    runner = CliRunner()
    added = runner.invoke(
        main,
        [
            "endpoints",
            "add",
            "ollama1",
            "--url",
            fake_engine.root_url,
            "--dialect",
            "ollama_native",
            "--residency",
            "onprem",
            "--model",
            "gpt-oss-20b=gpt-oss:20b",
        ],
        env=env,
    )
    assert added.exit_code == 0, added.output
    listed = runner.invoke(main, ["endpoints", "list", "--no-probe"], env=env).output
    [row] = [line.split() for line in listed.splitlines() if line.startswith("ollama1 ")]
    assert (row[2], row[4]) == ("onprem", "ollama_native")
    tested = runner.invoke(main, ["endpoints", "test", "ollama1"], env=env)
    assert tested.exit_code == 0, tested.output
    assert "chat: ok" in tested.output and "'OK'" in tested.output
    assert [r.path for r in fake_engine.requests[-2:]] == ["/api/tags", "/api/chat"]


def test_groups_set_a_reasoning_policy_and_members(env: dict[str, str]) -> None:
    runner = CliRunner()
    for name in ("tanaka", "sato"):
        made = runner.invoke(main, ["users", "create", name], input="", env=env)
        assert made.exit_code == 0, made.output
    created = runner.invoke(
        main,
        ["groups", "create", "kikaku", "--reasoning-display", "summary", "--max-effort", "medium"],
        env=env,
    )
    assert created.exit_code == 0, created.output
    added = runner.invoke(main, ["groups", "add", "kikaku", "tanaka", "sato"], env=env)
    assert added.output.count("added to kikaku") == 2
    again = runner.invoke(main, ["groups", "add", "kikaku", "tanaka"], env=env)
    assert "already in" in again.output
    # Only the named setting changes; "inherit" clears one.
    changed = runner.invoke(main, ["groups", "set", "kikaku", "--max-effort", "inherit"], env=env)
    assert changed.exit_code == 0, changed.output
    runner.invoke(main, ["groups", "remove", "kikaku", "sato"], env=env)
    listed = runner.invoke(main, ["groups", "list"], env=env).output
    assert listed.strip() == (
        "kikaku\treasoning=summary\tmax_effort=inherit\tdefault_classification=inherit\ttanaka"
    )
    unknown = runner.invoke(main, ["groups", "add", "nobody", "tanaka"], env=env)
    assert unknown.exit_code != 0 and "no group named 'nobody'" in unknown.output
    bad = runner.invoke(main, ["groups", "create", "x", "--max-effort", "extreme"], env=env)
    assert bad.exit_code != 0


def test_serve_refuses_an_invalid_policy_file_and_names_the_line(
    env: dict[str, str], tmp_path: Path
) -> None:
    bad = tmp_path / "policy.toml"
    bad.write_text('version = 1\nrules = "everything"\n', encoding="utf-8")
    result = CliRunner().invoke(main, ["serve"], env={**env, "MAMORI_POLICY_FILE": str(bad)})
    assert result.exit_code != 0
    assert f"{bad}" in result.output and "no rules" in result.output


def test_offline_check_lists_every_host_and_nothing_is_served(
    env: dict[str, str], tmp_path: Path
) -> None:
    config = tmp_path / "mamori.toml"
    config.write_text(
        """
database_url = "postgresql://mamori@db.internal:6432/mamori"

[[endpoints]]
name = "gpu1"
url = "http://10.0.0.5:8000/v1"
residency = "onprem"
models = ["gpt-oss-120b"]

[[endpoints]]
name = "cloud"
url = "https://api.example.com/v1"
residency = "foreign"
models = ["gpt-oss-120b"]
""",
        encoding="utf-8",
    )
    runner = CliRunner()
    result = runner.invoke(
        main, ["serve", "--offline-check"], env={**env, "MAMORI_CONFIG": str(config)}
    )
    assert result.exit_code == 0, result.output
    rows = {
        line.split()[1]: line for line in result.output.splitlines() if line.startswith("endpoint")
    }
    assert set(rows) == {"gpu1", "cloud"}
    assert "10.0.0.5" in rows["gpu1"] and "8000" in rows["gpu1"]
    assert "api.example.com" in rows["cloud"] and "443" in rows["cloud"]
    assert "assumed:<=c1,tos,trains" in rows["cloud"]
    assert any(line.startswith("embedded engine") for line in result.output.splitlines())
    assert any(
        line.startswith("database") and "db.internal" in line and "6432" in line
        for line in result.output.splitlines()
    )
    assert "テレメトリ" in result.output and "no telemetry" in result.output


def test_endpoints_add_records_the_assessment_and_reads_gaps_cautiously(
    env: dict[str, str],
) -> None:
    runner = CliRunner()
    common = ["--url", "http://h:8000/v1", "--model", "gpt-oss-120b"]
    for name, extra in (
        ("gpu2", ["--residency", "onprem", "--max-classification", "機密性3"]),
        ("ismap", ["--residency", "domestic_cloud", "--max-classification", "c2", "--contract"]),
        ("plain", ["--residency", "foreign"]),
    ):
        added = runner.invoke(main, ["endpoints", "add", name, *common, *extra], env=env)
        assert added.exit_code == 0, added.output
    listed = runner.invoke(main, ["endpoints", "list", "--no-probe"], env=env).output
    trust = {line.split()[0]: line.split()[3] for line in listed.splitlines()[1:]}
    assert trust == {
        "gpu2": "<=c3,contract,no-training",
        "ismap": "<=c2,contract,trains",
        "plain": "assumed:<=c1,tos,trains",
    }
    bad = runner.invoke(
        main,
        ["endpoints", "add", "x", *common, "--residency", "onprem", "--max-classification", "極秘"],
        env=env,
    )
    assert bad.exit_code != 0 and "unknown classification" in bad.output
