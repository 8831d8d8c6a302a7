"""The targets of the guard issue, measured on the shared development set.

The file lives beside the project (``../shared/data``) and is never copied into it. Without it
the test skips, except under CI=true, where a missing file is a failure.
"""

import os
from pathlib import Path

import pytest

from mamori.guard.pii.evaluate import evaluate, load_examples
from mamori.guard.registry import default_pii_detectors

DATA = Path(__file__).resolve().parents[3] / ".." / "shared" / "data" / "pii-ja-dev.jsonl"


def test_micro_f1_and_precision_targets() -> None:
    if not DATA.is_file():
        if os.environ.get("CI") == "true":
            pytest.fail(f"the PII dev set is missing: {DATA}")
        pytest.skip(f"no PII dev set at {DATA}")
    report = evaluate(default_pii_detectors(), load_examples(DATA))
    assert report.micro.f1 >= 0.95
    for kind in ("my_number", "corporate_number", "credit_card"):
        assert report.per_kind[kind].precision >= 0.99, kind
