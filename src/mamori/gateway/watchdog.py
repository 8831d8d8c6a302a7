"""First-byte and idle timeouts for a streamed response, at the cost of one timer per stream."""

from __future__ import annotations

import asyncio
from typing import Any

# The event loop may run a timer up to its clock resolution early; without slack the check
# would re-arm for the same instant.
_TIMER_SLACK = 0.001


class ReadWatchdog:
    """First-byte and idle timeouts with one timer per stream instead of one per network read.

    A timeout scope around every read would cost about half as much again as httpx's own work
    per read. Here a read only stamps its start time; the timer, when it fires, checks whether
    the read in progress has waited too long, and cancels the reading task if so. It never
    fires between reads, i.e. while the consumer holds a yielded event: a slow consumer is not
    an idle engine, and a cancellation there would land in the consumer's code.

    Use: ``arm()`` before each await on the engine and ``disarm()`` after it (in ``finally``);
    on ``CancelledError``, ``owns_cancellation()`` tells a timeout (raise your own error) from
    a cancellation by someone else (re-raise). ``close()`` when the stream ends.
    """

    __slots__ = ("_handle", "_loop", "_started", "_task", "expired", "limit")

    def __init__(self, loop: asyncio.AbstractEventLoop, limit: float) -> None:
        self._loop = loop
        self.limit = limit
        self._started: float | None = None
        self._task: asyncio.Task[Any] | None = None
        self.expired = False
        self._handle: asyncio.TimerHandle | None = loop.call_at(loop.time() + limit, self._check)

    def arm(self) -> None:
        self._started = self._loop.time()
        # With the loop given, current_task skips get_running_loop(), whose fork check costs
        # a getpid() system call: 3% of the event loop's time at 200 streams (py-spy).
        self._task = asyncio.current_task(self._loop)

    def disarm(self) -> None:
        self._started = None

    def set_limit(self, limit: float) -> None:
        self.limit = limit
        if self._handle is not None:
            self._handle.cancel()
            start = self._loop.time() if self._started is None else self._started
            self._handle = self._loop.call_at(start + limit, self._check)

    def owns_cancellation(self) -> bool:
        """After a CancelledError: whether it came from this watchdog and nothing else.

        Withdraws the watchdog's cancel request once; later calls return False, so a
        cancellation from elsewhere, re-raised through several handlers, stays one.
        """
        if not self.expired or self._task is None:
            return False
        self.expired = False
        return self._task.uncancel() == 0

    def close(self) -> None:
        if self._handle is not None:
            self._handle.cancel()
            self._handle = None

    def _check(self) -> None:
        now = self._loop.time()
        started = self._started
        if started is None:
            self._handle = self._loop.call_at(now + self.limit, self._check)
        elif now < started + self.limit - _TIMER_SLACK:
            self._handle = self._loop.call_at(started + self.limit, self._check)
        else:
            self._handle = None
            self.expired = True
            if self._task is not None:
                self._task.cancel()
