"""A circuit breaker per endpoint: stop sending turns to an engine that keeps failing.

closed ──N consecutive failures──▶ open ──cooldown elapsed, or a probe succeeds──▶ half-open
  ▲                                  ▲                                                │
  └──────── a success ───────────────┼──────────────── a success ────────────────────┘
                                     └──────────────── a failure ─────────────────────┘

Half-open admits one trial request at a time. Each trip that follows another without a success
in between doubles the cooldown, up to a cap, so an engine that flaps is not hammered every
30 seconds for hours. The core is pure: time comes from an injected clock, so tests drive it
without sleeping.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from enum import IntEnum

Clock = Callable[[], float]


class CircuitState(IntEnum):
    # The values are what /metrics exposes as mamori_endpoint_circuit_state.
    CLOSED = 0
    HALF_OPEN = 1
    OPEN = 2


@dataclass(frozen=True, slots=True)
class BreakerPolicy:
    failure_threshold: int = 3
    cooldown: float = 30.0
    max_cooldown: float = 300.0


class CircuitBreaker:
    def __init__(self, policy: BreakerPolicy | None = None, clock: Clock = time.monotonic) -> None:
        self.policy = policy or BreakerPolicy()
        self._clock = clock
        self._open = False
        self._opened_at = 0.0
        self._half_open_early = False  # a probe succeeded before the cooldown ran out
        self._trial_out = False
        self.consecutive_failures = 0
        self.trips = 0  # consecutive trips without a success between them
        self.failures_total = 0

    @property
    def state(self) -> CircuitState:
        if not self._open:
            return CircuitState.CLOSED
        if self._half_open_early or self._clock() >= self._opened_at + self.cooldown:
            return CircuitState.HALF_OPEN
        return CircuitState.OPEN

    @property
    def cooldown(self) -> float:
        """The cooldown of the current (or next) open period."""
        doublings = max(self.trips - 1, 0)
        return min(self.policy.cooldown * 2.0**doublings, self.policy.max_cooldown)

    @property
    def retry_at(self) -> float | None:
        """Monotonic time the open period ends; None unless open."""
        return self._opened_at + self.cooldown if self.state is CircuitState.OPEN else None

    def available(self) -> bool:
        """Whether routing may plan a request here now: closed, or half-open with no trial out."""
        state = self.state
        return state is CircuitState.CLOSED or (
            state is CircuitState.HALF_OPEN and not self._trial_out
        )

    def begin(self) -> bool:
        """A request is about to be sent; True when it is the half-open trial."""
        if self.state is CircuitState.HALF_OPEN and not self._trial_out:
            self._trial_out = True
            return True
        return False

    def abandon_trial(self) -> None:
        """The trial ended without a verdict (a 4xx, the client went away): let another go."""
        self._trial_out = False

    def record_success(self) -> None:
        self._open = False
        self._half_open_early = False
        self._trial_out = False
        self.consecutive_failures = 0
        self.trips = 0

    def record_failure(self) -> None:
        self.failures_total += 1
        self.consecutive_failures += 1
        state = self.state
        if state is CircuitState.HALF_OPEN or (
            state is CircuitState.CLOSED
            and self.consecutive_failures >= self.policy.failure_threshold
        ):
            self._trip()
        # While open, a failure (a probe, a request sent because nothing else was left) changes
        # nothing: the cooldown already runs.

    def probe_succeeded(self) -> None:
        """An active probe reached the engine.

        Open: the cooldown is cut short and a trial request may go. Half-open: the probe is the
        trial, and it passed. Closed: it ends a run of failures like any success.
        """
        state = self.state
        if state is CircuitState.OPEN:
            self._half_open_early = True
        else:
            self.record_success()

    def _trip(self) -> None:
        self.trips += 1
        self._open = True
        self._opened_at = self._clock()
        self._half_open_early = False
        self._trial_out = False
