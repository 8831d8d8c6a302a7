"""First-run files: the data directory and the session secret."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from mamori.datadir import SECRET_FILE, ensure_data_dir, load_or_create_secret
from mamori.errors import PlaceholderSecretError


def test_data_dir_and_secret_are_created_private(tmp_path: Path) -> None:
    data = ensure_data_dir(tmp_path / "nested" / "data")
    secret = load_or_create_secret(data, None)
    path = data / SECRET_FILE
    assert len(secret) >= 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(data.stat().st_mode) == 0o700
    # The same secret on the next start: sessions survive a restart.
    assert load_or_create_secret(data, None) == secret


@pytest.mark.parametrize("value", ["changeme", "CHANGE-ME", "secret", "your-secret-key", "x" * 40])
def test_placeholder_secret_stops_startup(tmp_path: Path, value: str) -> None:
    with pytest.raises(PlaceholderSecretError, match="placeholder"):
        load_or_create_secret(tmp_path, value)


def test_short_secret_is_refused(tmp_path: Path) -> None:
    with pytest.raises(PlaceholderSecretError, match="shorter"):
        load_or_create_secret(tmp_path, "a-real-but-short-secret")


def test_placeholder_in_the_secret_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / SECRET_FILE).write_text("changeme")
    with pytest.raises(PlaceholderSecretError):
        load_or_create_secret(tmp_path, None)
