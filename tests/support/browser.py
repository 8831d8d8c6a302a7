"""Debian's Chromium for the browser tests: where it is, how it is launched, and what to do
when it is missing. Playwright never downloads a browser of its own here."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

CHROMIUM = "/usr/bin/chromium"
# No sandbox (containers), and nothing that phones home or updates itself.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-gpu",
    "--no-first-run",
]


def require_chromium() -> None:
    """Skips where Chromium is missing, but fails in CI, where it must be."""
    if not Path(CHROMIUM).exists():
        reason = f"Debian's chromium is not installed at {CHROMIUM} (scripts/ensure-system-deps)"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
