"""What the guard adds to a chat turn of 2,000 characters, before the engine is called.

Run from the repository root (``make bench-guard``)::

    .venv/bin/python bench/guard_latency.py [--chars 2000] [--turns 300]

A turn of ``--chars`` characters of Japanese administrative text with personal data in it
(built from ``../shared/data/pii-ja-dev.jsonl`` when present, else from sentences written
here) runs through the real prepare stages that read what a turn holds: guard.inbound with
every registered detector, then policy.classify. The reference, measured in the same run on
the same turns, is the same two stages with no detectors: what classification costs anyway.
Figures are per turn: median, 90th and 99th percentile, and the ratio of the medians.

It reports, it does not gate.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from pathlib import Path

from mamori.domain.chat import ChatMessage
from mamori.domain.classification import Classification
from mamori.domain.principal import Face, Principal, Role
from mamori.guard.detector import Detector
from mamori.guard.pii.normalize import normalize
from mamori.guard.registry import load_detectors
from mamori.pipeline.stage import PrepareStage
from mamori.pipeline.stages.classify import ClassifyStage
from mamori.pipeline.stages.guard import InboundGuardStage
from mamori.pipeline.turn import ChatTurn
from mamori.policy.sovereignty_file import load_default_policy

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / ".." / "shared" / "data" / "pii-ja-dev.jsonl"
PRINCIPAL = Principal("bench", "bench", frozenset({Role.USER}), Face.API)
FALLBACK = (
    "住民票の写しの交付申請について、窓口での手続きと必要書類をまとめてください。",
    "申込者の山本一郎さん（電話 090-1234-5678）から、転居に伴う住所変更の相談がありました。",
    "議事録: 令和6年度予算の執行状況について、各課から報告を受けた。",
)


def texts(chars: int, turns: int) -> list[str]:
    sentences = (
        [json.loads(line)["text"] for line in DATA.read_text(encoding="utf-8").splitlines()]
        if DATA.exists()
        else list(FALLBACK)
    )
    result: list[str] = []
    at = 0
    for _ in range(turns):
        parts: list[str] = []
        while sum(map(len, parts)) < chars:
            parts.append(sentences[at % len(sentences)])
            at += 1
        result.append("".join(parts)[:chars])
    return result


async def run(detectors: list[Detector], inputs: list[str]) -> list[float]:
    policy = load_default_policy()
    stages: list[PrepareStage] = [
        InboundGuardStage(detectors),
        ClassifyStage(policy, Classification.C1),
    ]
    timings: list[float] = []
    for text in inputs:
        normalize.cache_clear()  # every turn is new text, as in use
        turn = ChatTurn(principal=PRINCIPAL, model="m", messages=[ChatMessage("user", text)])
        started = time.perf_counter()
        for stage in stages:
            await stage.prepare(turn)
        timings.append(time.perf_counter() - started)
    return timings


def describe(label: str, timings: list[float]) -> str:
    ms = sorted(t * 1000 for t in timings)
    p90, p99 = ms[int(len(ms) * 0.9)], ms[min(len(ms) - 1, int(len(ms) * 0.99))]
    median = statistics.median(ms)
    return f"  {label:<28} median {median:7.2f} ms   p90 {p90:7.2f} ms   p99 {p99:7.2f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--chars", type=int, default=2000)
    parser.add_argument("--turns", type=int, default=300)
    args = parser.parse_args()
    inputs = texts(args.chars, args.turns)
    detectors = load_detectors()
    asyncio.run(run(detectors, inputs[:5]))  # warm-up: dictionaries, compiled patterns
    reference = asyncio.run(run([], inputs))
    guarded = asyncio.run(run(detectors, inputs))
    print(f"turns: {len(inputs)} of {args.chars} characters; detectors: {len(detectors)}")
    print(describe("reference (no detectors)", reference))
    print(describe("guard.inbound + classify", guarded))
    added = statistics.median(guarded) - statistics.median(reference)
    ratio = statistics.median(guarded) / max(statistics.median(reference), 1e-9)
    print(f"guard adds {added * 1000:.2f} ms per turn (median); {ratio:.0f} times the reference")


if __name__ == "__main__":
    main()
