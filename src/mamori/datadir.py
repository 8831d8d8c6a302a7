"""The data directory and the installation secret kept in it."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from mamori.errors import ConfigError, PlaceholderSecretError

SECRET_FILE = "session_secret"  # noqa: S105 - a file name, not a secret
MIN_SECRET_LENGTH = 32

# Values copied from sample configs. Any of them in production means sessions can be forged.
PLACEHOLDER_SECRETS = frozenset(
    {
        "changeme",
        "change-me",
        "change_me",
        "changethis",
        "change-this",
        "secret",
        "mysecret",
        "your-secret-key",
        "your_secret_key",
        "secret-key",
        "secret_key",
        "placeholder",
        "replace-me",
        "replaceme",
        "xxx",
        "xxxx",
        "default",
        "password",
        "mamori",
        "t0p-s3cr3t",
    }
)


def ensure_data_dir(path: Path) -> Path:
    """Create the data directory on first run, readable only by the service account."""
    try:
        path.mkdir(parents=True, exist_ok=True, mode=0o700)
    except OSError as exc:
        raise ConfigError(f"cannot create data directory {path}: {exc.strerror}") from exc
    if not os.access(path, os.W_OK):
        raise ConfigError(f"data directory {path} is not writable")
    return path


def check_secret(value: str, origin: str) -> str:
    stripped = value.strip()
    if stripped.lower() in PLACEHOLDER_SECRETS or set(stripped) <= {"x", "X", "*", "0"}:
        raise PlaceholderSecretError(
            f"the session secret from {origin} is a placeholder value; sessions signed with it "
            "could be forged. Remove it to let mamori generate one, or set a random value of "
            f"at least {MIN_SECRET_LENGTH} characters (e.g. `openssl rand -hex 32`)."
        )
    if len(stripped) < MIN_SECRET_LENGTH:
        raise PlaceholderSecretError(
            f"the session secret from {origin} is shorter than {MIN_SECRET_LENGTH} characters"
        )
    return stripped


def load_or_create_secret(data_dir: Path, configured: str | None) -> str:
    """The configured secret, else the one in the data directory, created (0600) on first run."""
    if configured is not None:
        return check_secret(configured, "MAMORI_SESSION_SECRET / mamori.toml")
    path = data_dir / SECRET_FILE
    if path.exists():
        return check_secret(path.read_text(encoding="utf-8"), str(path))
    value = secrets.token_hex(32)
    # O_EXCL: two processes starting at once must not overwrite each other's secret.
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return check_secret(path.read_text(encoding="utf-8"), str(path))
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(value)
    return value
