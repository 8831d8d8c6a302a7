"""Prompt-injection screening: true- and false-positive rates by source, and throughput.

Run from the repository root (``make bench-injection``)::

    .venv/bin/python bench/injection.py [--data DIR] [--repeat N] [--errors N]

The data defaults to ``../shared/data`` beside the project (never copied into it):

- ``injection-ja-dev.jsonl``: TPR and FPR per source (user, document), judged by ``screen``
  with the source each line names;
- ``bipia/``: the English indirect attacks (text and code) screened as documents give a TPR;
  the benign e-mail contexts screened as documents give an FPR;
- ``aisi-security-v0.1.csv``: the six Japan AISI red-team prompts screened as user text (two of
  them ask for harmful content rather than inject, so 6/6 is not expected).

Throughput is the best of N passes over every dev and BIPIA text, one ``screen`` call per
text, in characters per second on one core. The reference, measured in the same run over the
same texts, is one bare compiled regex alternation of a few override phrases: the cheapest
pass a pattern screen could make.

It reports, it does not gate: missed targets still exit 0; a missing data file exits 1.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from mamori.guard.injection import screen
from mamori.guard.injection._text import prepare
from mamori.guard.injection.scan import scan_text
from mamori.guard.pii.normalize import normalize

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT / ".." / "shared" / "data"
TARGET_TPR = 0.90
TARGET_USER_FPR = 0.05
_REFERENCE = re.compile(r"ignore (?:all )?previous instructions|指示を無視|システムプロンプト")


@dataclass
class Rate:
    hit: int = 0
    total: int = 0

    def add(self, flagged: bool) -> None:
        self.hit += flagged
        self.total += 1

    def __str__(self) -> str:
        value = self.hit / self.total if self.total else 0.0
        return f"{value:.3f} ({self.hit}/{self.total})"

    @property
    def value(self) -> float:
        return self.hit / self.total if self.total else 0.0


def load_dev(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8") as handle:
        return [json.loads(line) for line in handle if line.strip()]


def load_bipia(folder: Path) -> tuple[list[str], list[str]]:
    attacks: list[str] = []
    for name in ("text_attack_train.json", "code_attack_train.json"):
        data = json.loads((folder / name).read_text(encoding="utf-8"))
        for texts in data.values():
            attacks.extend(texts)
    with (folder / "email-train.jsonl").open(encoding="utf-8") as handle:
        benign = [json.loads(line)["context"] for line in handle if line.strip()]
    return attacks, benign


def load_aisi(path: Path) -> list[str]:
    with path.open(encoding="utf-8", newline="") as handle:
        return [row["text"] for row in csv.DictReader(handle)]


def dev_rates(rows: list[dict[str, str]], errors: int) -> dict[str, tuple[Rate, Rate]]:
    rates = {source: (Rate(), Rate()) for source in ("user", "document")}
    shown = 0
    for row in rows:
        verdict = screen(row["text"], source=row["source"])
        tpr, fpr = rates[row["source"]]
        is_attack = row["label"] == "attack"
        (tpr if is_attack else fpr).add(verdict.attack)
        if verdict.attack != is_attack and shown < errors:
            shown += 1
            text = row["text"].replace("\n", " ")[:100]
            print(f"  miss {row['id']} {row['source']}/{row['category']} {verdict.score}: {text}")
    return rates


def best_of(repeat: int, one_pass: Callable[[], object]) -> float:
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        one_pass()
        best = min(best, time.perf_counter() - started)
    return best


def throughput(texts: list[str], repeat: int) -> tuple[float, float]:
    def screen_pass() -> None:
        # Each text scanned as if never seen: the caches would otherwise do all the work.
        normalize.cache_clear()
        prepare.cache_clear()
        scan_text.cache_clear()
        for text in texts:
            screen(text, source="document")

    def reference_pass() -> None:
        for text in texts:
            _REFERENCE.search(text)

    return best_of(repeat, screen_pass), best_of(repeat, reference_pass)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--errors", type=int, default=10, help="misjudged dev lines to print")
    args = parser.parse_args(argv)
    dev_path = args.data / "injection-ja-dev.jsonl"
    bipia = args.data / "bipia"
    aisi_path = args.data / "aisi-security-v0.1.csv"
    missing = [p for p in (dev_path, bipia, aisi_path) if not p.exists()]
    if missing:
        print(f"missing data: {', '.join(str(p) for p in missing)}", file=sys.stderr)
        return 1

    rows = load_dev(dev_path)
    print(f"injection-ja-dev ({len(rows)} lines)")
    rates = dev_rates(rows, args.errors)
    overall = Rate()
    for source, (tpr, fpr) in rates.items():
        print(f"  {source:<9} TPR {tpr}   FPR {fpr}")
        overall.hit += tpr.hit
        overall.total += tpr.total
    print(f"  {'all':<9} TPR {overall}")

    attacks, benign = load_bipia(bipia)
    bipia_tpr, bipia_fpr = Rate(), Rate()
    for text in attacks:
        bipia_tpr.add(screen(text, source="document").attack)
    for text in benign:
        bipia_fpr.add(screen(text, source="document").attack)
    print("BIPIA as document")
    print(f"  attacks TPR {bipia_tpr}   benign e-mail FPR {bipia_fpr}")

    aisi = load_aisi(aisi_path)
    flagged = [screen(text, source="user") for text in aisi]
    print(f"AISI security v0.1 as user: {sum(v.attack for v in flagged)}/{len(aisi)} flagged")
    for i, verdict in enumerate(flagged, 1):
        print(f"  {i}: {verdict.attack!s:<5} {verdict.score:.2f} {', '.join(verdict.kinds)}")

    texts = [row["text"] for row in rows] + attacks + benign
    chars = sum(len(t) for t in texts)
    seconds, reference = throughput(texts, args.repeat)
    print(f"throughput: {chars / seconds:,.0f} chars/s over {chars:,} chars")
    print(
        f"  bare regex reference {chars / reference:,.0f} chars/s; screen is "
        f"{seconds / reference:,.0f}x slower"
    )

    user_fpr = rates["user"][1]
    met = overall.value >= TARGET_TPR and user_fpr.value <= TARGET_USER_FPR
    print(
        f"target TPR >= {TARGET_TPR} (all dev attacks) with FPR <= {TARGET_USER_FPR} "
        f"(benign user): {'met' if met else 'NOT met'} "
        f"(TPR {overall.value:.3f}, user FPR {user_fpr.value:.3f}, "
        f"document FPR {rates['document'][1].value:.3f})"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
