"""Counters, gauges and histograms in Prometheus' text exposition format (version 0.0.4).

Written by hand rather than with prometheus_client: mamori needs three metric kinds, label
values it controls, and one registry per app; that is less code than adapting the client's
process-wide defaults, and it adds no dependency to a product that is installed offline.
Nothing here is thread-safe: everything runs on the event loop.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

LabelValues = tuple[str, ...]


class Family(Protocol):
    def render(self) -> Iterable[str]: ...


def exposition(families: Iterable[Family]) -> str:
    return "".join(line + "\n" for family in families for line in family.render())


def _number(value: float) -> str:
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def _labels(names: Sequence[str], values: Sequence[str]) -> str:
    if not names:
        return ""
    pairs = ",".join(f'{n}="{_escape(v)}"' for n, v in zip(names, values, strict=True))
    return "{" + pairs + "}"


@dataclass
class _Simple:
    name: str
    help: str
    labels: tuple[str, ...] = ()
    values: dict[LabelValues, float] = field(default_factory=dict)
    kind = "untyped"

    def render(self) -> Iterable[str]:
        yield f"# HELP {self.name} {self.help}"
        yield f"# TYPE {self.name} {self.kind}"
        for key, value in sorted(self.values.items()):
            yield f"{self.name}{_labels(self.labels, key)} {_number(value)}"


@dataclass
class Counter(_Simple):
    kind = "counter"

    def inc(self, labels: LabelValues, amount: float = 1.0) -> None:
        self.values[labels] = self.values.get(labels, 0.0) + amount


@dataclass
class Gauge(_Simple):
    kind = "gauge"

    def set(self, labels: LabelValues, value: float) -> None:
        self.values[labels] = value


@dataclass
class _Series:
    counts: list[int]  # per bucket, not cumulative; the last is +Inf
    total: float = 0.0


@dataclass
class Histogram:
    name: str
    help: str
    labels: tuple[str, ...]
    buckets: tuple[float, ...]  # upper bounds, ascending, without +Inf
    series: dict[LabelValues, _Series] = field(default_factory=dict)

    def observe(self, labels: LabelValues, value: float) -> None:
        series = self.series.get(labels)
        if series is None:
            series = self.series[labels] = _Series([0] * (len(self.buckets) + 1))
        series.counts[bisect.bisect_left(self.buckets, value)] += 1
        series.total += value

    def render(self) -> Iterable[str]:
        yield f"# HELP {self.name} {self.help}"
        yield f"# TYPE {self.name} histogram"
        names = (*self.labels, "le")
        for key, series in sorted(self.series.items()):
            cumulative = 0
            for bound, count in zip((*self.buckets, math.inf), series.counts, strict=True):
                cumulative += count
                yield f"{self.name}_bucket{_labels(names, (*key, _number(bound)))} {cumulative}"
            yield f"{self.name}_sum{_labels(self.labels, key)} {_number(series.total)}"
            yield f"{self.name}_count{_labels(self.labels, key)} {cumulative}"
