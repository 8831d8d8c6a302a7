"""Scoring detectors against a labelled set (``pii-ja-dev.jsonl``): exact-span P/R/F1.

A prediction counts only when its kind and its span in the original text both match a gold
entity exactly. Used by ``bench/pii.py`` and by the tests that guard the targets.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from mamori.guard.detector import Detector
from mamori.guard.resolve import detect_all


@dataclass(frozen=True, slots=True)
class Example:
    text: str
    spans: frozenset[tuple[str, int, int]]  # (kind, start, end)


@dataclass(frozen=True, slots=True)
class Counts:
    tp: int = 0
    fp: int = 0
    fn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 1.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 1.0

    @property
    def f1(self) -> float:
        p, r = self.precision, self.recall
        return 2 * p * r / (p + r) if p + r else 0.0


@dataclass(slots=True)
class Report:
    per_kind: dict[str, Counts] = field(default_factory=dict)
    errors: list[tuple[str, str, str]] = field(default_factory=list)  # (fp|fn, kind, text)

    @property
    def micro(self) -> Counts:
        total = Counter[str]()
        for c in self.per_kind.values():
            total.update(tp=c.tp, fp=c.fp, fn=c.fn)
        return Counts(total["tp"], total["fp"], total["fn"])


def load_examples(path: Path) -> list[Example]:
    examples = []
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            if not line.strip():
                continue
            row = json.loads(line)
            spans = frozenset(
                (e["label"].lower(), int(e["start"]), int(e["end"])) for e in row["entities"]
            )
            examples.append(Example(row["text"], spans))
    return examples


def evaluate(detectors: Sequence[Detector], examples: Iterable[Example]) -> Report:
    tp: Counter[str] = Counter()
    fp: Counter[str] = Counter()
    fn: Counter[str] = Counter()
    report = Report()
    for example in examples:
        found = {(f.kind, f.start, f.end) for f in detect_all(detectors, example.text)}
        for kind, start, end in found - example.spans:
            fp[kind] += 1
            report.errors.append(("fp", kind, _mark(example.text, start, end)))
        for kind, start, end in example.spans - found:
            fn[kind] += 1
            report.errors.append(("fn", kind, _mark(example.text, start, end)))
        for kind, _, _ in found & example.spans:
            tp[kind] += 1
    for kind in sorted(set(tp) | set(fp) | set(fn)):
        report.per_kind[kind] = Counts(tp[kind], fp[kind], fn[kind])
    return report


def _mark(text: str, start: int, end: int) -> str:
    return f"{text[:start]}[[{text[start:end]}]]{text[end:]}"
