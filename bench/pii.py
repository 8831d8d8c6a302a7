"""Japanese PII detectors: exact-span accuracy per kind, and throughput, on the dev set.

Run from the repository root (``make bench-pii``)::

    .venv/bin/python bench/pii.py [--data PATH] [--repeat N] [--errors N]

The data defaults to ``../shared/data/pii-ja-dev.jsonl`` beside the project (it is not copied
into it). All built-in detectors run through the registry, as the guard stage will run them,
and overlapping findings are resolved before scoring. A finding counts only when its kind and
its span in the original text match a labelled entity exactly.

Throughput is the best of N passes over every text of the set, one call per text (as the guard
scans one message at a time), in characters and UTF-8 megabytes per second on one core. The
reference, measured in the same run over the same texts, is a bare ``re`` scan for ASCII digit
runs: the cheapest pass any detector could make.

It reports, it does not gate: missed targets still exit 0; a missing data file exits 1.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from mamori.guard.detector import Detector
from mamori.guard.pii import PII_KINDS
from mamori.guard.pii.evaluate import Report, evaluate, load_examples
from mamori.guard.pii.normalize import normalize
from mamori.guard.registry import default_pii_detectors
from mamori.guard.resolve import detect_all

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT / ".." / "shared" / "data" / "pii-ja-dev.jsonl"
TARGET_MICRO_F1 = 0.95
TARGET_PRECISION = {"my_number": 0.99, "corporate_number": 0.99, "credit_card": 0.99}
TARGET_MB_PER_S = 1.0
_DIGITS = re.compile(r"[0-9]+")


def best_of(repeat: int, one_pass: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        one_pass()
        best = min(best, time.perf_counter() - started)
    return best


def print_accuracy(report: Report) -> None:
    print(f"{'kind':<18} {'gold':>5} {'tp':>5} {'fp':>5} {'fn':>5} {'P':>7} {'R':>7} {'F1':>7}")
    print("-" * 66)
    for kind in PII_KINDS:
        c = report.per_kind.get(kind)
        if c is None:
            continue
        gold = c.tp + c.fn
        row = f"{kind:<18} {gold:>5} {c.tp:>5} {c.fp:>5} {c.fn:>5}"
        print(f"{row} {c.precision:>7.3f} {c.recall:>7.3f} {c.f1:>7.3f}")
    m = report.micro
    print("-" * 66)
    row = f"{'micro':<18} {m.tp + m.fn:>5} {m.tp:>5} {m.fp:>5} {m.fn:>5}"
    print(f"{row} {m.precision:>7.3f} {m.recall:>7.3f} {m.f1:>7.3f}")


def measure_throughput(
    detectors: Sequence[Detector], texts: list[str], repeat: int
) -> tuple[float, float]:
    """Seconds per pass: all detectors (overlaps resolved), and the bare-regex reference."""

    def detectors_pass() -> None:
        normalize.cache_clear()  # each text normalised as if it had never been seen
        for text in texts:
            detect_all(detectors, text)

    def reference_pass() -> None:
        for text in texts:
            _DIGITS.findall(text)

    detectors_pass()  # warm: the dictionary and every lazy table load before timing
    return best_of(repeat, detectors_pass), best_of(repeat, reference_pass)


def verdict(met: bool) -> str:
    return "met" if met else "MISSED"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--repeat", type=int, default=5, help="throughput passes (best of N)")
    parser.add_argument("--errors", type=int, default=0, help="print up to N misses per kind")
    args = parser.parse_args(argv)
    if not args.data.is_file():
        print(f"no data at {args.data}: pass --data PATH", file=sys.stderr)
        return 1

    examples = load_examples(args.data)
    detectors = default_pii_detectors()
    texts = [e.text for e in examples]
    chars = sum(map(len, texts))
    size = sum(len(t.encode("utf-8")) for t in texts)
    print(f"data: {args.data.resolve()} ({len(texts)} texts, {chars:,} chars, {size:,} bytes)")
    print(f"detectors: {', '.join(d.name for d in detectors)}\n")

    report = evaluate(detectors, examples)
    print_accuracy(report)
    if args.errors:
        shown: dict[tuple[str, str], int] = {}
        for what, kind, marked in report.errors:
            shown[(what, kind)] = shown.get((what, kind), 0) + 1
            if shown[(what, kind)] <= args.errors:
                print(f"  {what} {kind:<16} {marked}")

    seconds, reference = measure_throughput(detectors, texts, args.repeat)
    mb_per_s = size / seconds / 1e6
    print(f"\nthroughput (best of {args.repeat}, one call per text, one core):")
    print(f"  detectors        {chars / seconds:>12,.0f} chars/s  {mb_per_s:>7.2f} MB/s")
    ref_mb = size / reference / 1e6
    print(f"  bare regex pass  {chars / reference:>12,.0f} chars/s  {ref_mb:>7.2f} MB/s")
    print(f"  the detectors are {seconds / reference:,.0f} times slower than a bare regex pass")

    micro = report.micro.f1
    print("\ntargets:")
    print(f"  micro F1 >= {TARGET_MICRO_F1}: {micro:.3f} {verdict(micro >= TARGET_MICRO_F1)}")
    for kind, target in TARGET_PRECISION.items():
        p = report.per_kind[kind].precision if kind in report.per_kind else 1.0
        print(f"  {kind} precision >= {target}: {p:.3f} {verdict(p >= target)}")
    ok = mb_per_s >= TARGET_MB_PER_S
    print(f"  throughput >= {TARGET_MB_PER_S} MB/s per core: {mb_per_s:.2f} {verdict(ok)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
