"""One run: ``concurrency`` users streaming from one target, and what it measured."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

from bench.overhead.client import Bins, Result, Target, user
from bench.overhead.procs import cpu_seconds, own_cpu_seconds
from bench.overhead.scenario import STREAM_SECONDS


@dataclass
class Run:
    target: str
    concurrency: int
    results: list[Result]
    wall: float
    steady_rate: float  # token chunks/s while all users were active
    gateway_cpu: float  # CPU seconds the gateway used during the run (0 for direct)
    client_cpu: float
    fake_cpu: float
    measured: list[Result]  # the results whose TTFT counts (started at full load)
    skipped: int  # requests not started: the run was over its time budget
    cut: int  # streams stopped at the run's time cap

    @property
    def tokens(self) -> int:
        return sum(r.tokens for r in self.results)

    @property
    def rate(self) -> float:
        """Chunks per second over the whole run (the figure of a flat-out run)."""
        return self.tokens / self.wall


@dataclass(frozen=True, slots=True)
class Pids:
    fake: int
    gateway: int | None  # None when the client talks to the fake directly


async def run_load(
    target: Target, concurrency: int, requests_per_user: int, stagger: float, pids: Pids
) -> Run:
    """``concurrency`` users; user i starts at i * stagger / concurrency, so that arrivals are
    spread evenly over one stream's duration instead of arriving as one burst."""
    # A paced run starts no request after 1.2 times its duration at the engine's pace, and
    # stops streams still running at 2.5 times: a slow target costs minutes, not hours.
    paced = stagger + requests_per_user * STREAM_SECONDS
    if not stagger:
        return await _run(target, concurrency, requests_per_user, 0.0, pids, None, None)
    start_until, stop_at = 1.2 * paced, 2.5 * paced + 5
    return await _run(target, concurrency, requests_per_user, stagger, pids, start_until, stop_at)


async def run_flat_out(target: Target, concurrency: int, seconds: float, pids: Pids) -> Run:
    """``concurrency`` users streaming back to back for ``seconds``, then stopped: the same
    wall time for a fast and a slow target, so both are measured long enough."""
    return await _run(target, concurrency, 1 << 30, 0.0, pids, seconds, seconds)


async def _run(
    target: Target,
    concurrency: int,
    requests_per_user: int,
    stagger: float,
    pids: Pids,
    start_until: float | None,
    stop_at: float | None,
) -> Run:
    t0 = time.perf_counter()
    bins = Bins(t0)
    deadline = t0 + start_until if start_until is not None else None
    cap = stop_at
    cpu_g = cpu_seconds(pids.gateway) if pids.gateway else 0.0
    cpu_f, cpu_c = cpu_seconds(pids.fake), own_cpu_seconds()
    per_user: list[list[Result]] = [[] for _ in range(concurrency)]
    tasks = [
        asyncio.create_task(
            user(target, requests_per_user, i * stagger / concurrency, bins, False, deadline, sink)
        )
        for i, sink in enumerate(per_user)
    ]
    _, unfinished = await asyncio.wait(tasks, timeout=cap)
    for task in unfinished:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    end = time.perf_counter()
    cpu_g = cpu_seconds(pids.gateway) - cpu_g if pids.gateway else 0.0
    cpu_f = cpu_seconds(pids.fake) - cpu_f
    cpu_c = own_cpu_seconds() - cpu_c
    results = [r for rs in per_user for r in rs]
    steady, measured = _full_load(per_user, t0, end, stagger, requests_per_user)
    if not stagger:
        # Flat out, streams stopped at the end have no TTFT because they were stopped.
        measured = [r for r in measured if r.ttft is not None or not r.cut]
    return Run(
        target=target.name,
        concurrency=concurrency,
        results=results,
        wall=end - t0,
        steady_rate=steady(bins),
        gateway_cpu=cpu_g,
        client_cpu=cpu_c,
        fake_cpu=cpu_f,
        measured=measured,
        skipped=concurrency * requests_per_user - len(results) if stagger else 0,
        cut=sum(1 for r in results if r.cut),
    )


def _full_load(
    per_user: list[list[Result]], t0: float, end: float, stagger: float, requests_per_user: int
) -> tuple[Callable[[Bins], float], list[Result]]:
    """How to read the rate at full load, and the streams whose TTFT counts."""
    concurrency = len(per_user)
    results = [r for rs in per_user for r in rs]
    # Full load: from the last user's first request until the first user is done.
    full_from = t0 + stagger * (concurrency - 1) / concurrency
    full_until = min((rs[-1].ended for rs in per_user if rs), default=end)
    if not (stagger and requests_per_user > 1 and full_until - full_from > 1.0):
        total = sum(r.tokens for r in results) / (end - t0)
        return (lambda _bins: total), results
    measured = [r for r in results if full_from <= r.started <= full_until]
    if len(measured) < min(20, concurrency):
        # A target so slow that users never got to their next request: count the streams
        # started once at least half of the users were streaming.
        half = t0 + stagger / 2
        measured = [r for r in results if half <= r.started <= full_until]
    return (lambda bins: bins.rate(full_from, full_until)), measured


async def warm(target: Target, concurrency: int) -> list[Result]:
    """Open a gateway's pooled upstream connections, as a server that has been running would."""
    per_user = await asyncio.gather(*(user(target, 1, 0.0, None) for _ in range(concurrency)))
    return [r for rs in per_user for r in rs]
