"""Startup refuses unsafe configuration before serving anything."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from mamori.app import create_app
from mamori.errors import PlaceholderSecretError
from mamori.policy.sovereignty_file import PolicyFileError
from mamori.settings import Settings


async def test_placeholder_secret_stops_startup(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path,
        local_engine=False,
        bootstrap_admin=False,
        session_secret=SecretStr("changeme"),
    )
    app = create_app(settings)
    with pytest.raises(PlaceholderSecretError):
        async with app.router.lifespan_context(app):
            pass


async def test_first_start_creates_an_admin_with_a_printed_password(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = Settings(data_dir=tmp_path, local_engine=False)
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        accounts = app.state.services.accounts
        printed = capsys.readouterr().err
        password = printed.split("password : ")[1].split()[0]
        assert await accounts.authenticate_password("admin", password) is not None
    # A second start creates nobody and prints no password.
    app = create_app(settings)
    async with app.router.lifespan_context(app):
        assert "password : " not in capsys.readouterr().err
        assert await app.state.services.accounts.count_users() == 1


async def test_an_invalid_policy_file_stops_startup_naming_the_line(tmp_path: Path) -> None:
    policy = tmp_path / "policy.toml"
    # Valid TOML, but it would let 機密性2 reach any endpoint, 約款型 ones included.
    policy.write_text(
        'version = 1\n\n[[rules]]\nid = "allow-all"\ndescription_ja = "全部"\n'
        'description_en = "all"\ndata = ["公開", "機密性1", "機密性2"]\neffect = "allow"\n',
        encoding="utf-8",
    )
    settings = Settings(
        data_dir=tmp_path / "data", local_engine=False, bootstrap_admin=False, policy_file=policy
    )
    app = create_app(settings)
    with pytest.raises(PolicyFileError) as caught:
        async with app.router.lifespan_context(app):
            pass
    assert f"{policy}:3:" in caught.value.message and "約款型" in caught.value.message
    # Refused before anything else: not even the data directory was created.
    assert not (tmp_path / "data").exists()


async def test_a_missing_policy_file_stops_startup(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path, local_engine=False, bootstrap_admin=False, policy_file=tmp_path / "no"
    )
    app = create_app(settings)
    with pytest.raises(PolicyFileError, match="cannot read the file"):
        async with app.router.lifespan_context(app):
            pass
