"""Usage charts drawn on the server as SVG, inline in the page: no script draws them, nothing
is fetched to draw them, and the page's CSP holds (classes, no style attributes). Every
figure and name is put in with ``Markup.format``, which escapes it: model and group names are
data.

``day_chart`` has one bar per day of the month; ``ranking_chart`` one horizontal bar per
model or group, longest first. Each chart is an ``img`` with a title, and each bar has a
``<title>`` with its figure, so the numbers are there for screen readers too.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from markupsafe import Markup

WIDTH = 620
DAY_HEIGHT = 200
AXIS = 20
GUTTER = 56  # room on the left for the scale
ROW = 26
LABEL = 180  # room on the left for a model's or a group's name
RANKED = 12  # bars in a ranking; the table below has every row

BarTitle = Callable[[str, int], str]

_SVG = Markup(
    '<svg xmlns="http://www.w3.org/2000/svg" class="usage-svg" viewBox="0 0 {width} {height}"'
    ' role="img" aria-labelledby="{id}-title"><title id="{id}-title">{label}</title>'
    "{body}</svg>"
)
_TEXT = Markup('<text x="{x}" y="{y}" class="axis-label" text-anchor="{anchor}">{text}</text>')
_DAY_BAR = Markup(
    '<rect class="{kind}" x="{x}" y="{y}" width="{width}" height="{height}" data-day="{day}"'
    ' data-tokens="{tokens}"><title>{title}</title></rect>'
)
_RANK_BAR = Markup(
    '<rect class="bar" x="{x}" y="{y}" width="{width}" height="{height}" data-name="{name}"'
    ' data-tokens="{tokens}"><title>{title}</title></rect>'
)


def _svg(height: int, label: str, body: list[Markup], chart_id: str) -> Markup:
    return _SVG.format(
        width=WIDTH, height=height, id=chart_id, label=label, body=Markup("").join(body)
    )


def day_chart(days: Sequence[dict[str, Any]], label: str, bar_title: BarTitle) -> Markup:
    """``days``: [{day: "YYYY-MM-DD", tokens}] for each day of the month."""
    most = max([1, *(int(d["tokens"]) for d in days)])
    step = (WIDTH - GUTTER) / max(1, len(days))
    body = [
        _TEXT.format(x=GUTTER - 6, y=14, anchor="end", text=f"{most:,}"),
        _TEXT.format(x=GUTTER - 6, y=DAY_HEIGHT, anchor="end", text="0"),
        Markup('<line x1="{x}" y1="10" x2="{x}" y2="{y}" class="axis"/>').format(
            x=GUTTER, y=DAY_HEIGHT
        ),
    ]
    for i, d in enumerate(days):
        tokens = int(d["tokens"])
        height = max(1, round(tokens / most * (DAY_HEIGHT - 10)))
        body.append(
            _DAY_BAR.format(
                kind="bar" if tokens else "bar bar-empty",
                x=f"{GUTTER + i * step + 1:.1f}",
                y=DAY_HEIGHT - height,
                width=f"{max(1.0, step - 2):.1f}",
                height=height,
                day=d["day"],
                tokens=tokens,
                title=bar_title(str(d["day"]), tokens),
            )
        )
        day = int(str(d["day"])[8:10])
        if day == 1 or day % 5 == 0:
            x = f"{GUTTER + i * step + step / 2:.1f}"
            body.append(_TEXT.format(x=x, y=DAY_HEIGHT + 14, anchor="middle", text=day))
    return _svg(DAY_HEIGHT + AXIS, label, body, "usage-day-chart")


def ranking_chart(
    rows: Sequence[tuple[str, int]], label: str, chart_id: str, bar_title: BarTitle
) -> Markup:
    """``rows``: (name, tokens); the longest ``RANKED`` are drawn."""
    ranked = sorted(rows, key=lambda r: (-r[1], r[0]))[:RANKED]
    most = max([1, *(t for _, t in ranked)])
    room = WIDTH - LABEL - 70
    body: list[Markup] = []
    for i, (name, tokens) in enumerate(ranked):
        y = 6 + i * ROW
        width = max(1, round(tokens / most * room))
        shown = name if len(name) <= 22 else name[:21] + "…"
        body += [
            _TEXT.format(x=LABEL - 8, y=y + 15, anchor="end", text=shown),
            _RANK_BAR.format(
                x=LABEL,
                y=y,
                width=width,
                height=ROW - 8,
                name=name,
                tokens=tokens,
                title=bar_title(name, tokens),
            ),
            _TEXT.format(x=LABEL + width + 6, y=y + 15, anchor="start", text=f"{tokens:,}"),
        ]
    return _svg(12 + max(1, len(ranked)) * ROW, label, body, chart_id)
