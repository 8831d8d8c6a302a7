"""Settings: defaults, environment, mamori.toml."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from mamori.domain.classification import Classification
from mamori.settings import EndpointSettings, Settings


def test_defaults(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    settings = Settings()
    assert (settings.host, settings.port) == ("127.0.0.1", 8080)
    assert settings.data_dir == tmp_path / "xdg" / "mamori"
    assert (
        settings.resolved_database_url == f"sqlite:///{tmp_path / 'xdg' / 'mamori' / 'mamori.db'}"
    )


def test_environment_and_toml(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    toml = tmp_path / "mamori.toml"
    toml.write_text(
        'port = 9000\n[[endpoints]]\nname = "gpu1"\nurl = "http://gpu1:8000/v1"\n'
        'dialect = "vllm"\nresidency = "onprem"\nmodels = ["gpt-oss-120b"]\n'
    )
    monkeypatch.setenv("MAMORI_CONFIG", str(toml))
    monkeypatch.setenv("MAMORI_HOST", "0.0.0.0")
    monkeypatch.setenv("MAMORI_DATABASE_URL", "postgresql://u@db/mamori")
    settings = Settings()
    assert (settings.host, settings.port) == ("0.0.0.0", 9000)
    assert settings.database_url == "postgresql+psycopg://u@db/mamori"
    assert settings.endpoints[0].model_map() == {"gpt-oss-120b": "gpt-oss-120b"}


def test_typos_in_the_file_are_errors(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    toml = tmp_path / "mamori.toml"
    toml.write_text("prot = 9000\n")
    monkeypatch.setenv("MAMORI_CONFIG", str(toml))
    with pytest.raises(ValidationError, match="prot"):
        Settings()


def test_a_missing_config_file_is_an_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    from mamori.errors import ConfigError

    monkeypatch.setenv("MAMORI_CONFIG", str(tmp_path / "absent.toml"))
    with pytest.raises(ConfigError, match=r"absent\.toml"):
        Settings()


def test_the_example_settings_file_loads(monkeypatch: pytest.MonkeyPatch) -> None:
    example = Path(__file__).parents[1] / "docs" / "mamori.example.toml"
    monkeypatch.setenv("MAMORI_CONFIG", str(example))
    settings = Settings()
    assert settings.default_classification is Classification.C1
    assert settings.policy_file is None and settings.endpoints


def test_endpoint_assessments_and_their_cautious_gaps() -> None:
    assessed = EndpointSettings(
        name="ismap",
        url="https://llm.example.jp/v1",
        residency="domestic_cloud",
        models=["m"],
        max_classification="機密性2",
        trains_on_inputs=False,
    )
    trust = assessed.assessed_trust()
    assert trust is not None and trust.max_classification is Classification.C2
    # Not said: a cloud endpoint is read as 約款型.
    assert (trust.trains_on_inputs, trust.terms_of_service) == (False, True)
    unassessed = EndpointSettings(name="x", url="http://x/v1", residency="foreign", models=["m"])
    assert unassessed.assessed_trust() is None
    with pytest.raises(ValidationError):
        EndpointSettings(
            name="y", url="http://y/v1", residency="onprem", models=["m"], max_classification="極秘"
        )
    assert Settings(default_classification="c2").default_classification is Classification.C2
