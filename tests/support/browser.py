"""Debian's Chromium for the browser tests: where it is, how it is launched, and what to do
when it is missing. Playwright never downloads a browser of its own here."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

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


# Where the browser tests leave screenshots of the main pages, for people to look at: CI keeps
# this directory as a build artifact (docs/testing.md). MAMORI_SCREENSHOTS moves it.
SCREENSHOTS = Path(
    os.environ.get("MAMORI_SCREENSHOTS", Path(__file__).resolve().parents[2] / "build/screenshots")
)


async def screenshot(page: Any, name: str) -> Path:
    """A full-page PNG of ``page`` as ``<name>.png``; ``name`` says page, language and width."""
    await asyncio.to_thread(SCREENSHOTS.mkdir, parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    await page.screenshot(path=str(path), full_page=True)
    return path


async def sign_in(page: Any, base_url: str, username: str, password: str, path: str = "/") -> None:
    """Signs in through the login form and waits until the browser is at ``path``."""
    await page.goto(f"{base_url}/login?next={path}")
    await page.fill("#login-username", username)
    await page.fill("#login-password", password)
    await page.click("#login-submit")
    await page.wait_for_url(f"{base_url}{path}")
