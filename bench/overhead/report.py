"""Statistics over the runs, the three-way tables, and the verdicts on the targets."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

from bench.overhead.load import Run
from bench.overhead.scenario import (
    REASONING_FIELD,
    TARGET_ADDED_TTFT_P50_MS,
    TARGET_ADDED_TTFT_P99_MS,
    TARGET_CPU_PER_1K_CHUNKS,
    TARGET_MAX_RATE_VS_LITELLM,
    TARGET_THROUGHPUT_RATIO,
    TOKENS,
)


@dataclass
class Level:
    """All runs at one concurrency (or the flat-out runs), by target name."""

    concurrency: int
    runs: dict[str, list[Run]] = field(default_factory=dict)

    def add(self, run: Run) -> None:
        self.runs.setdefault(run.target, []).append(run)


def percentile(values: list[float], p: float) -> float:
    """Linear interpolation between closest ranks."""
    if not values:
        return float("nan")
    data = sorted(values)
    k = (len(data) - 1) * p / 100
    lo, hi = math.floor(k), math.ceil(k)
    return data[lo] + (data[hi] - data[lo]) * (k - lo)


@dataclass(frozen=True, slots=True)
class Ttft:
    """TTFTs in ms. A stream stopped at the time cap before its first token counts with its
    waiting time, a lower bound: then the percentiles are lower bounds too (``censored``)."""

    values: list[float]
    censored: int

    @classmethod
    def of(cls, runs: list[Run]) -> Ttft:
        values, censored = [], 0
        for run in runs:
            for r in run.measured:
                if r.ttft is not None:
                    values.append(r.ttft * 1000)
                elif r.cut:
                    values.append((r.ended - r.started) * 1000)
                    censored += 1
        return cls(values, censored)

    def p(self, p: float) -> float:
        return percentile(self.values, p)


def mean_rate(runs: list[Run]) -> float:
    return sum(run.steady_rate for run in runs) / len(runs) if runs else float("nan")


def flat_out_rate(runs: list[Run]) -> float:
    wall = sum(r.wall for r in runs)
    return sum(r.tokens for r in runs) / wall if wall else float("nan")


def cpu_per_1k(runs: list[Run]) -> float:
    tokens = sum(run.tokens for run in runs)
    return sum(run.gateway_cpu for run in runs) / (tokens / 1000) if tokens else float("nan")


def fmt(value: float, digits: int = 1, lower_bound: bool = False) -> str:
    if math.isnan(value):
        return "n/a"
    return (">" if lower_bound else "") + f"{value:.{digits}f}"


def problems(runs: list[Run]) -> list[str]:
    found = []
    for run in runs:
        for r in run.results:
            if r.cut:
                continue
            where = f"{run.target} c={run.concurrency}"
            if r.error is not None:
                found.append(f"{where}: {r.error}")
            elif not r.complete:
                found.append(f"{where}: {r.tokens}/{TOKENS} tokens, done={r.done}")
            elif r.misplaced:
                found.append(f"{where}: reasoning out of place")
    return found


def print_levels(levels: list[Level], gateways: list[str]) -> None:
    """Per concurrency: direct's figures, then each gateway's cost relative to them."""
    head = f"{'':>5} {'':>5} | {'direct':^22} |"
    sub = f"{'conc':>5} {'n':>5} | {'TTFT p50':>8} {'p99':>6} {'tok/s':>6} |"
    for name in gateways:
        head += f" {name + ': ADDED TTFT ms, tok/s vs direct':^40} |"
        sub += f" {'p50':>9} {'p99':>9} {'ratio':>6} {'CPU-s/1k chunks':>15} |"
    print(head)
    print(sub)
    print("-" * len(sub))
    for level in levels:
        direct = level.runs.get("direct", [])
        d = Ttft.of(direct)
        d_rate = mean_rate(direct)
        n = len(Ttft.of(level.runs.get(gateways[0], [])).values) if gateways else len(d.values)
        line = f"{level.concurrency:>5} {n:>5} | {fmt(d.p(50)):>8} {fmt(d.p(99)):>6}"
        line += f" {fmt(d_rate, 0):>6} |"
        for name in gateways:
            runs = level.runs.get(name, [])
            g = Ttft.of(runs)
            low = g.censored > 0
            line += (
                f" {fmt(g.p(50) - d.p(50), 1, low):>9} {fmt(g.p(99) - d.p(99), 1, low):>9}"
                f" {fmt(mean_rate(runs) / d_rate, 3):>6} {fmt(cpu_per_1k(runs), 4):>15} |"
            )
        print(line)
    if any(Ttft.of(runs).censored for lv in levels for runs in lv.runs.values()):
        print("  >: a lower bound; some streams hit the time cap before their first token")


def print_flat_out(level: Level, gateways: list[str]) -> None:
    print(f"\nMaximum throughput ({level.concurrency} concurrent streams, fake without delay):")
    print(
        f"  {'target':<8} {'chunks/s':>9} {'CPU-s/1k chunks':>16} {'gateway CPU':>12}"
        f" {'TTFT p50':>9}"
    )
    for name in ["direct", *gateways]:
        runs = level.runs.get(name, [])
        if not runs:
            continue
        wall = sum(r.wall for r in runs)
        cpu = f"{100 * sum(r.gateway_cpu for r in runs) / wall:.0f}%" if name != "direct" else "-"
        per_1k = fmt(cpu_per_1k(runs), 4) if name != "direct" else "-"
        print(
            f"  {name:<8} {flat_out_rate(runs):>9.0f} {per_1k:>16} {cpu:>12}"
            f" {fmt(Ttft.of(runs).p(50)):>7} ms"
        )
    if "mamori" in level.runs and "litellm" in level.runs:
        ratio = flat_out_rate(level.runs["mamori"]) / flat_out_rate(level.runs["litellm"])
        print(f"  mamori / LiteLLM: {ratio:.1f}x the chunk rate")


def print_side_load(levels: list[Level]) -> None:
    print("\nCPU of each process while the runs above lasted (% of one core, mean over the runs):")
    print(f"{'conc':>5} {'target':>8} | {'client':>7} {'fake':>7} {'gateway':>7} | {'wall s':>7}")
    for level in levels:
        for name, runs in level.runs.items():
            wall = sum(r.wall for r in runs)
            print(
                f"{level.concurrency:>5} {name:>8} |"
                f" {100 * sum(r.client_cpu for r in runs) / wall:>6.0f}%"
                f" {100 * sum(r.fake_cpu for r in runs) / wall:>6.0f}%"
                f" {100 * sum(r.gateway_cpu for r in runs) / wall:>6.0f}% | {wall:>7.1f}"
            )


def print_targets(levels: list[Level], flat: Level, reasoning_fields: dict[str, set[str]]) -> None:
    """Each target of the issue with its figure and met / MISSED; LiteLLM's as a reference."""
    print("\nTargets (issue), measured in this run:")

    def verdict(what: str, figure: str, ok: bool) -> None:
        print(f"  {what:<58} {figure:>17} -> {'met' if ok else 'MISSED'}")

    mamori_flat = flat.runs.get("mamori", [])
    if "litellm" in flat.runs:
        ratio = flat_out_rate(mamori_flat) / flat_out_rate(flat.runs["litellm"])
        verdict(
            f"max throughput: mamori >= {TARGET_MAX_RATE_VS_LITELLM:g}x LiteLLM's chunk rate",
            f"{ratio:.1f}x",
            ratio >= TARGET_MAX_RATE_VS_LITELLM,
        )
    else:
        print("  max throughput: mamori vs LiteLLM                          (LiteLLM not measured)")
    cost = cpu_per_1k(mamori_flat)
    verdict(
        f"max throughput: mamori <= {TARGET_CPU_PER_1K_CHUNKS:g} CPU-s per 1,000 chunks",
        f"{cost:.4f}",
        cost <= TARGET_CPU_PER_1K_CHUNKS,
    )
    at200 = next((lv for lv in levels if lv.concurrency == 200), None)
    if at200 is None:
        print("  (200 streams: not measured by this plan)")
    else:
        direct, mamori = at200.runs["direct"], at200.runs["mamori"]
        ratio = mean_rate(mamori) / mean_rate(direct)
        verdict(
            f"200 streams: throughput >= {TARGET_THROUGHPUT_RATIO:g}x direct",
            f"{ratio:.3f}x",
            ratio >= TARGET_THROUGHPUT_RATIO,
        )
        d, m = Ttft.of(direct), Ttft.of(mamori)
        for p, target in ((99, TARGET_ADDED_TTFT_P99_MS), (50, TARGET_ADDED_TTFT_P50_MS)):
            added = m.p(p) - d.p(p)
            verdict(
                f"200 streams: added TTFT p{p} < {target:g} ms",
                f"{fmt(added, 2, m.censored > 0)} ms",
                added < target and not m.censored,
            )
    for name, fields in reasoning_fields.items():
        kept = fields == {REASONING_FIELD}
        what = f"{name} keeps vLLM's delta field `{REASONING_FIELD}`"
        seen = ", ".join(sorted(fields)) or "none"
        if name == "mamori":
            verdict(what, seen, kept)
        else:
            print(f"  {what:<58} {seen:>17} -> {'yes' if kept else 'no, renamed'} (reference)")
