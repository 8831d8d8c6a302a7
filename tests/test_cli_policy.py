"""`mamori policy check | explain`, run in-process."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from mamori.cli import main

CONFIG = """\
[[endpoints]]
name = "cloud"
url = "http://cloud.example/v1"
dialect = "vllm"
residency = "foreign"
models = ["gpt-oss-120b"]

[[endpoints]]
name = "gpu1"
url = "http://gpu1:8000/v1"
dialect = "vllm"
residency = "onprem"
models = ["gpt-oss-120b"]
"""


@pytest.fixture
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("MAMORI_CONFIG", raising=False)
    (tmp_path / "mamori.toml").write_text(CONFIG, encoding="utf-8")
    return {"MAMORI_DATA_DIR": str(tmp_path / "data")}


def test_check_accepts_the_default_policy() -> None:
    path = Path(__file__).parents[1] / "src/mamori/policy/default_policy.toml"
    result = CliRunner().invoke(main, ["policy", "check", str(path)])
    assert result.exit_code == 0, result.output
    assert "ok, 7 rules" in result.output and "c3-onprem" in result.output


def test_check_refuses_a_bad_file_naming_the_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(
        '[[rules]]\nid = "x"\ndescription_ja = "あ"\ndescription_en = "a"\n'
        'data = ["機密性2"]\neffect = "allow"\n',
        encoding="utf-8",
    )
    result = CliRunner().invoke(main, ["policy", "check", str(bad)])
    assert result.exit_code != 0
    assert f"{bad}:1:" in result.output and "約款型" in result.output


def test_explain_reroutes_confidential_data_from_the_foreign_cloud(env: dict[str, str]) -> None:
    args = ["policy", "explain", "--classification", "機密性2", "--model", "gpt-oss-120b"]
    result = CliRunner().invoke(main, [*args, "--endpoint", "cloud"], env=env)
    assert result.exit_code == 0, result.output
    assert "decision / 判定: reroute" in result.output
    assert "rule / 規則: c2-onprem-or-approved" in result.output
    assert "endpoint / 送信先: gpu1" in result.output
    assert "refused / 拒否: cloud by confidential-never-tos" in result.output


def test_explain_for_a_user_starts_from_their_groups_default_label(env: dict[str, str]) -> None:
    runner = CliRunner()
    created = runner.invoke(main, ["users", "create", "tanaka"], input="pw-tanaka-123\n", env=env)
    assert created.exit_code == 0, created.output
    for command in (
        ["groups", "create", "zeimu", "--default-classification", "機密性2"],
        ["groups", "add", "zeimu", "tanaka"],
    ):
        assert runner.invoke(main, command, env=env).exit_code == 0
    args = ["policy", "explain", "--model", "gpt-oss-120b", "--endpoint", "cloud"]
    plain = runner.invoke(main, args, env=env)
    assert "decision / 判定: allow" in plain.output and "送信先: cloud" in plain.output
    theirs = runner.invoke(main, [*args, "--user", "tanaka"], env=env)
    assert theirs.exit_code == 0, theirs.output
    assert "data / データ: 機密性2" in theirs.output
    assert "decision / 判定: reroute" in theirs.output
    unknown = runner.invoke(main, [*args, "--user", "nobody"], env=env)
    assert unknown.exit_code != 0 and "no user 'nobody'" in unknown.output


def test_explain_uses_the_assessed_trust_of_mamori_toml(env: dict[str, str]) -> None:
    Path("mamori.toml").write_text(
        CONFIG
        + """
[[endpoints]]
name = "ismap"
url = "https://ismap.example.jp/v1"
dialect = "vllm"
residency = "domestic_cloud"
models = ["gpt-oss-120b"]
max_classification = "機密性2"
trains_on_inputs = false
terms_of_service = false
""",
        encoding="utf-8",
    )
    args = ["policy", "explain", "--classification", "c2", "--model", "gpt-oss-120b"]
    result = CliRunner().invoke(main, [*args, "--endpoint", "ismap"], env=env)
    assert result.exit_code == 0, result.output
    assert "decision / 判定: allow" in result.output and "送信先: ismap" in result.output


def test_explain_denies_special_personal_data_without_on_prem(env: dict[str, str]) -> None:
    Path("mamori.toml").write_text(CONFIG.split('[[endpoints]]\nname = "gpu1"')[0])
    args = ["policy", "explain", "--classification", "public", "--special", "--model"]
    result = CliRunner().invoke(main, [*args, "gpt-oss-120b"], env=env)
    assert result.exit_code == 0, result.output
    assert "decision / 判定: deny" in result.output
    assert "rule / 規則: confidential-never-tos" in result.output
    assert "message (ja):" in result.output and "message (en):" in result.output


def test_explain_uses_a_given_policy_file_and_rejects_unknown_classes(
    env: dict[str, str], tmp_path: Path
) -> None:
    own = tmp_path / "own.toml"
    own.write_text(
        '[[rules]]\nid = "deny-all"\ndescription_ja = "全て拒否"\ndescription_en = "deny all"\n'
        'data = ["public"]\neffect = "deny"\n',
        encoding="utf-8",
    )
    args = ["policy", "explain", "--classification", "c0", "--model", "gpt-oss-120b"]
    unknown = CliRunner().invoke(main, args, env=env)
    assert unknown.exit_code != 0 and "unknown classification" in unknown.output
    args[3] = "public"
    result = CliRunner().invoke(main, [*args, "--policy", str(own)], env=env)
    assert result.exit_code == 0, result.output
    assert "rule / 規則: deny-all" in result.output and "全て拒否" in result.output
