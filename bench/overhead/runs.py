"""The plan, the order of the runs against every target, and the report at the end."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass

from bench.overhead.client import Target
from bench.overhead.gateways import Gateway
from bench.overhead.load import Pids, Run, run_flat_out, run_load, warm
from bench.overhead.procs import BenchError, cpu_seconds
from bench.overhead.report import (
    Level,
    print_flat_out,
    print_levels,
    print_side_load,
    print_targets,
    problems,
)
from bench.overhead.scenario import (
    CONTENT_TOKENS,
    DELAY_MS,
    FAST_MODEL,
    REASONING_TOKENS,
    SLOW_MODEL,
    STREAM_SECONDS,
    TOKENS,
    UPSTREAM_MODEL,
)
from bench.overhead.verify import verify


@dataclass(frozen=True)
class Plan:
    levels: tuple[tuple[int, int, int], ...]  # (concurrency, requests per user, repetitions)
    max_concurrency: int
    max_seconds: float  # of each flat-out run
    max_repetitions: int


# The level of the targets first, while the machine is as it was when the run started.
FULL = Plan(
    levels=((200, 2, 2), (500, 2, 2), (50, 2, 2), (1, 2, 2)),
    max_concurrency=64,
    max_seconds=8.0,
    max_repetitions=2,
)
QUICK = Plan(
    levels=((200, 2, 1), (500, 2, 1), (50, 2, 1), (1, 2, 1)),
    max_concurrency=64,
    max_seconds=5.0,
    max_repetitions=1,
)
# Seconds, not minutes: checks that the benchmark itself works (nothing is measured seriously).
SMOKE = Plan(levels=((20, 2, 1), (1, 1, 1)), max_concurrency=8, max_seconds=2.0, max_repetitions=1)
# Streams a gateway is warmed with (opening its pooled upstream connections; not measured).
# LiteLLM gets fewer: at its pace, 500 warm-up streams would take minutes.
WARM_LITELLM = 64


@dataclass(frozen=True)
class Setup:
    fakes: dict[str, tuple[str, int]]  # "slow" / "fast" -> (host, port)
    fake_pids: dict[str, int]
    gateways: list[Gateway]

    def targets(self, speed: str) -> list[tuple[Target, Pids]]:
        """direct first, then each gateway, for the fake of ``speed``."""
        host, port = self.fakes[speed]
        model = SLOW_MODEL if speed == "slow" else FAST_MODEL
        fake = self.fake_pids[speed]
        out = [(Target("direct", host, port, UPSTREAM_MODEL), Pids(fake, None))]
        for g in self.gateways:
            out.append((Target(g.name, "127.0.0.1", g.port, model, g.api_key), Pids(fake, g.pid)))
        return out


async def bench(plan: Plan, setup: Setup) -> int:
    slow, fast = setup.targets("slow"), setup.targets("fast")
    print("\nCorrectness (one stream each way, field by field):")
    fields = await verify([t for t, _ in slow])
    await verify([t for t, _ in fast])

    top = max((c for c, _, _ in plan.levels), default=1)
    for (target, _), (target_fast, _) in zip(slow[1:], fast[1:], strict=True):
        n = top if target.name != "litellm" else min(top, WARM_LITELLM)
        print(f"Warming {target.name}'s upstream connections ({n} streams, not measured) ...")
        warmed = await warm(target, n) + await warm(target_fast, plan.max_concurrency)
        broken = [r for r in warmed if not r.complete]
        if broken:
            raise BenchError(f"warm-up of {target.name}: {len(broken)} incomplete streams")

    levels: list[Level] = []
    all_runs: list[Run] = []
    for concurrency, per_user, reps in plan.levels:
        stagger = STREAM_SECONDS if concurrency > 1 else 0.0
        level = Level(concurrency)
        for rep in range(reps):
            # Alternate the order, so drift on a shared machine hits every target alike.
            for target, pids in slow if rep % 2 == 0 else slow[::-1]:
                run = await run_load(target, concurrency, per_user, stagger, pids)
                level.add(run)
                all_runs.append(run)
                _print_run(f"c={concurrency:<4} {target.name:<7} rep {rep + 1}/{reps}", run)
                await settle(pids)
        levels.append(level)
    levels.sort(key=lambda lv: lv.concurrency)

    flat = Level(plan.max_concurrency)
    print(
        f"\nMaximum throughput (fake without delay, {plan.max_concurrency} concurrent,"
        f" {plan.max_seconds:g} s a run):"
    )
    for rep in range(plan.max_repetitions):
        for target, pids in fast if rep % 2 == 0 else fast[::-1]:
            run = await run_flat_out(target, plan.max_concurrency, plan.max_seconds, pids)
            flat.add(run)
            all_runs.append(run)
            _print_run(f"{target.name:<7} rep {rep + 1}/{plan.max_repetitions}", run)
            await settle(pids)
    return report(levels, flat, all_runs, [g.name for g in setup.gateways], fields)


def report(
    levels: list[Level],
    flat: Level,
    all_runs: list[Run],
    gateways: list[str],
    fields: dict[str, set[str]],
) -> int:
    print("\n" + "=" * 100)
    print(
        f"Streams: {REASONING_TOKENS} reasoning + {CONTENT_TOKENS} content token chunks at"
        f" {DELAY_MS:g} ms each (~{STREAM_SECONDS:.2f} s a stream, ideal"
        f" {TOKENS / STREAM_SECONDS:.1f} tok/s per stream)."
    )
    print(
        "TTFT: request sent -> first reasoning/content chunk, over the streams started at full"
        " load; ADDED = gateway - direct, per percentile.\ntok/s: token chunks per second at"
        " full load (all users streaming); ratio = gateway / direct.\nCPU-s/1k chunks: CPU"
        " time of the gateway process per 1,000 token chunks delivered.\n"
    )
    print_levels(levels, gateways)
    print_flat_out(flat, gateways)
    print_side_load([*levels, flat])
    print_targets(levels, flat, {g: fields[g] for g in gateways})

    found = problems(all_runs)
    total = sum(len(run.results) for run in all_runs)
    # Flat-out runs stop their streams by design; only the paced runs have a time budget.
    paced = [run for level in levels for runs in level.runs.values() for run in runs]
    cut = sum(run.cut for run in paced)
    skipped = sum(run.skipped for run in paced)
    print(f"\nRequests: {total}, failed or incomplete: {len(found)}", end="")
    print(
        f"; over the time budget: {skipped} not started, {cut} stopped while streaming"
        if cut or skipped
        else ""
    )
    for line in found[:10]:
        print(f"  {line}")
    return 1 if found else 0


def _print_run(label: str, run: Run) -> None:
    errors = sum(1 for r in run.results if not r.complete and not r.cut)
    print(
        f"  {label}: {len(run.results)} streams, {run.tokens} chunks in {run.wall:.1f}s,"
        f" {run.steady_rate:.0f} tok/s at full load, errors {errors}"
        + (f", {run.skipped} not started (time budget)" if run.skipped else "")
        + (f", {run.cut} stopped at the time cap" if run.cut else ""),
        flush=True,
    )


async def settle(pids: Pids, quiet: float = 0.2, limit: float = 30.0) -> None:
    """Wait until the processes of the last run are idle: a gateway stopped at the time cap
    may still be working through its backlog, which would be charged to the next run."""
    watched = [pid for pid in (pids.gateway, pids.fake) if pid]
    deadline = time.monotonic() + limit
    before = sum(cpu_seconds(pid) for pid in watched)
    while time.monotonic() < deadline:
        await asyncio.sleep(0.5)
        now = sum(cpu_seconds(pid) for pid in watched)
        if now - before < quiet * 0.5:
            return
        before = now
