"""Slows down password guessing: a few failures per account and address, then a pause."""

from __future__ import annotations

import time
from collections import deque


class LoginThrottle:
    def __init__(self, max_failures: int = 5, window_seconds: float = 300.0) -> None:
        self.max_failures = max_failures
        self.window = window_seconds
        self._failures: dict[str, deque[float]] = {}

    def blocked(self, key: str) -> bool:
        failures = self._recent(key)
        return failures is not None and len(failures) >= self.max_failures

    def failed(self, key: str) -> None:
        self._failures.setdefault(key, deque()).append(time.monotonic())
        if len(self._failures) > 10_000:
            # Bounded memory under a spray of usernames: forget the oldest keys.
            for stale in list(self._failures)[:1000]:
                del self._failures[stale]

    def succeeded(self, key: str) -> None:
        self._failures.pop(key, None)

    def _recent(self, key: str) -> deque[float] | None:
        failures = self._failures.get(key)
        if failures is None:
            return None
        horizon = time.monotonic() - self.window
        while failures and failures[0] < horizon:
            failures.popleft()
        return failures
