"""`mamori guard scan FILE.jsonl`: what the guard finds in each line, for operators and auditors."""

from __future__ import annotations

import sys
from pathlib import Path

import click
import orjson

from mamori.guard.registry import load_detectors
from mamori.guard.scan import scan

SOURCES = ("user", "document", "tool", "answer")


@click.group("guard")
def guard_group() -> None:
    """Check texts the way the guard checks every turn."""


@guard_group.command("scan")
@click.argument("file", type=click.Path(path_type=Path, exists=True, dir_okay=False))
@click.option(
    "--source",
    type=click.Choice(SOURCES),
    default="user",
    show_default=True,
    help="Where the texts come from: injection is judged by source.",
)
def guard_scan(file: Path, source: str) -> None:
    """Read FILE.jsonl (a `text` field per line); write one JSON line per input to stdout.

    Each output line has the input's `id` when it has one, `findings` (start, end, label,
    score; spans index the original text) and `injection` (attack, score, kinds, findings).
    """
    detectors = load_detectors()
    out = sys.stdout.buffer
    with file.open("rb") as lines:
        for number, raw in enumerate(lines, start=1):
            if not raw.strip():
                continue
            try:
                item = orjson.loads(raw)
            except orjson.JSONDecodeError as exc:
                raise click.ClickException(f"{file}:{number}: not JSON ({exc})") from None
            text = item.get("text") if isinstance(item, dict) else None
            if not isinstance(text, str):
                raise click.ClickException(f"{file}:{number}: no string field 'text'")
            result = scan(text, detectors, source=source)
            if "id" in item:
                result = {"id": item["id"], **result}
            out.write(orjson.dumps(result) + b"\n")
    out.flush()
