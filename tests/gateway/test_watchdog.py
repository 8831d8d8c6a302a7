"""ReadWatchdog: times only the awaits it is armed for, and never swallows a foreign cancel."""

from __future__ import annotations

import asyncio

from mamori.gateway.watchdog import ReadWatchdog


async def armed_wait(watchdog: ReadWatchdog, seconds: float) -> str:
    """What a backend does around one read: 'read', 'timeout' or 'cancelled'."""
    watchdog.arm()
    try:
        await asyncio.sleep(seconds)
    except asyncio.CancelledError:
        return "timeout" if watchdog.owns_cancellation() else "cancelled"
    finally:
        watchdog.disarm()
    return "read"


async def test_an_armed_wait_past_the_limit_times_out_and_leaves_no_cancel_behind() -> None:
    watchdog = ReadWatchdog(asyncio.get_running_loop(), 0.05)
    try:
        assert await armed_wait(watchdog, 1.0) == "timeout"
    finally:
        watchdog.close()
    task = asyncio.current_task()
    assert task is not None
    assert task.cancelling() == 0


async def test_time_spent_disarmed_does_not_count() -> None:
    watchdog = ReadWatchdog(asyncio.get_running_loop(), 0.05)
    try:
        for _ in range(3):
            assert await armed_wait(watchdog, 0.01) == "read"
            await asyncio.sleep(0.08)  # the consumer's time, longer than the limit
    finally:
        watchdog.close()


async def test_set_limit_applies_to_the_next_wait() -> None:
    loop = asyncio.get_running_loop()
    watchdog = ReadWatchdog(loop, 5.0)
    try:
        assert await armed_wait(watchdog, 0.01) == "read"
        watchdog.set_limit(0.05)
        started = loop.time()
        assert await armed_wait(watchdog, 1.0) == "timeout"
        assert loop.time() - started < 0.5
    finally:
        watchdog.close()


async def test_a_cancel_from_outside_at_the_same_moment_stays_a_cancel() -> None:
    loop = asyncio.get_running_loop()
    watchdog = ReadWatchdog(loop, 5.0)
    outcome: list[bool] = []

    async def reader() -> None:
        watchdog.arm()
        try:
            await asyncio.sleep(1.0)
        except asyncio.CancelledError:
            outcome.append(watchdog.expired)
            # Two handlers see the same CancelledError, as in a backend's nested cleanup.
            outcome.append(watchdog.owns_cancellation())
            outcome.append(watchdog.owns_cancellation())
            raise
        finally:
            watchdog.disarm()

    task = asyncio.create_task(reader())
    await asyncio.sleep(0)  # the reader is armed and waiting
    # Both timers are due at the next iteration; the watchdog's (due at the arm time) runs
    # first, and the outside cancel lands before the reader can react to the first.
    watchdog.set_limit(0)
    loop.call_at(loop.time(), task.cancel)
    try:
        await asyncio.gather(task, return_exceptions=True)
    finally:
        watchdog.close()
    assert task.cancelled()
    assert outcome == [True, False, False]
