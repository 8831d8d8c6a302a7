"""The circuit breaker's state machine, driven by a hand-moved clock: no sleeping."""

from __future__ import annotations

from dataclasses import dataclass

from mamori.gateway.breaker import BreakerPolicy, CircuitBreaker, CircuitState

POLICY = BreakerPolicy(failure_threshold=3, cooldown=30.0, max_cooldown=100.0)


@dataclass
class Clock:
    now: float = 1000.0

    def __call__(self) -> float:
        return self.now


def state(breaker: CircuitBreaker) -> CircuitState:
    # A call, not the property: mypy would otherwise keep the first narrowed value.
    return breaker.state


def tripped() -> tuple[CircuitBreaker, Clock]:
    clock = Clock()
    breaker = CircuitBreaker(POLICY, clock)
    for _ in range(3):
        breaker.record_failure()
    return breaker, clock


def test_opens_after_the_threshold_of_consecutive_failures_only() -> None:
    breaker = CircuitBreaker(POLICY, Clock())
    breaker.record_failure()
    breaker.record_failure()
    breaker.record_success()  # breaks the run
    breaker.record_failure()
    breaker.record_failure()
    assert state(breaker) is CircuitState.CLOSED and breaker.available()
    breaker.record_failure()
    assert state(breaker) is CircuitState.OPEN and not breaker.available()
    assert breaker.failures_total == 5


def test_half_opens_after_the_cooldown_and_admits_one_trial() -> None:
    breaker, clock = tripped()
    clock.now += 29.9
    assert state(breaker) is CircuitState.OPEN and breaker.retry_at == 1030.0
    clock.now += 0.1
    assert state(breaker) is CircuitState.HALF_OPEN and breaker.available()
    assert breaker.begin() is True
    assert not breaker.available() and breaker.begin() is False  # the second must wait
    breaker.record_success()
    assert state(breaker) is CircuitState.CLOSED and breaker.begin() is False


def test_an_abandoned_trial_lets_the_next_request_try() -> None:
    breaker, clock = tripped()
    clock.now += 30
    assert breaker.begin() is True
    breaker.abandon_trial()
    assert state(breaker) is CircuitState.HALF_OPEN and breaker.begin() is True


def test_a_failed_trial_reopens_with_a_doubled_cooldown_up_to_the_cap() -> None:
    breaker, clock = tripped()
    cooldowns: list[float] = []
    for _ in range(4):
        clock.now += breaker.cooldown
        assert state(breaker) is CircuitState.HALF_OPEN
        breaker.begin()
        breaker.record_failure()  # one failure is enough while half-open
        assert state(breaker) is CircuitState.OPEN
        cooldowns.append(breaker.cooldown)
    assert cooldowns == [60.0, 100.0, 100.0, 100.0]


def test_success_resets_the_doubling() -> None:
    breaker, clock = tripped()
    clock.now += 30
    breaker.record_failure()
    assert breaker.cooldown == 60.0
    clock.now += 60
    breaker.record_success()
    for _ in range(3):
        breaker.record_failure()
    assert state(breaker) is CircuitState.OPEN and breaker.cooldown == 30.0


def test_failures_while_open_do_not_extend_the_cooldown() -> None:
    breaker, clock = tripped()
    clock.now += 20
    breaker.record_failure()
    clock.now += 10
    assert state(breaker) is CircuitState.HALF_OPEN


def test_a_successful_probe_cuts_the_cooldown_short_then_closes() -> None:
    breaker, clock = tripped()
    clock.now += 1
    breaker.probe_succeeded()
    assert state(breaker) is CircuitState.HALF_OPEN and breaker.available()
    breaker.probe_succeeded()
    assert state(breaker) is CircuitState.CLOSED and breaker.consecutive_failures == 0


def test_a_failed_probe_while_half_open_reopens() -> None:
    breaker, clock = tripped()
    clock.now += 1
    breaker.probe_succeeded()
    breaker.record_failure()
    assert state(breaker) is CircuitState.OPEN and breaker.cooldown == 60.0
