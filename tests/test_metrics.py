"""The hand-written Prometheus text exposition."""

from __future__ import annotations

from mamori.metrics import Counter, Gauge, Histogram, exposition


def test_counters_and_gauges_render_with_help_type_and_escaped_labels() -> None:
    counter = Counter("x_total", "Things.", ("name",))
    counter.inc(('a"b\\c\nd',))
    counter.inc(('a"b\\c\nd',), 2)
    gauge = Gauge("y", "Level.", ())
    gauge.set((), 0.25)
    assert exposition([counter, gauge]).splitlines() == [
        "# HELP x_total Things.",
        "# TYPE x_total counter",
        'x_total{name="a\\"b\\\\c\\nd"} 3',
        "# HELP y Level.",
        "# TYPE y gauge",
        "y 0.25",
    ]


def test_histogram_buckets_are_cumulative_and_inclusive() -> None:
    hist = Histogram("t_seconds", "Time.", ("m",), (0.1, 1.0))
    for value in (0.05, 0.1, 0.5, 7.0):
        hist.observe(("a",), value)
    lines = exposition([hist]).splitlines()
    assert lines[2:] == [
        't_seconds_bucket{m="a",le="0.1"} 2',
        't_seconds_bucket{m="a",le="1"} 3',
        't_seconds_bucket{m="a",le="+Inf"} 4',
        't_seconds_sum{m="a"} 7.65',
        't_seconds_count{m="a"} 4',
    ]
