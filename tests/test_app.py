"""Startup refuses unsafe configuration before serving anything."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr

from mamori.app import create_app
from mamori.errors import PlaceholderSecretError
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
