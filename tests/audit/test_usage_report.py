"""Monthly usage reports: which days a month has, and what the summary adds up."""

from __future__ import annotations

import io
from datetime import date

import pytest

from mamori.audit.usage_report import CSV_COLUMNS, Month, summary, write_csv
from mamori.errors import InvalidRequestError
from mamori.store.repos.usage import GroupTotal, UsageTotal


def total(day: int, user: str, model: str, prompt: int, completion: int) -> UsageTotal:
    return UsageTotal(
        day=date(2028, 2, day),
        user_id=f"id-{user}",
        username=user if user != "gone" else None,
        api_key_id=None,
        model=model,
        requests=1,
        prompt_tokens=prompt,
        completion_tokens=completion,
        estimated=0,
    )


@pytest.mark.parametrize(
    ("text", "first", "last"),
    [
        ("2028-02", date(2028, 2, 1), date(2028, 2, 29)),  # a leap year
        ("2026-02", date(2026, 2, 1), date(2026, 2, 28)),
        ("2026-12", date(2026, 12, 1), date(2026, 12, 31)),
    ],
)
def test_a_month_spans_its_calendar_days(text: str, first: date, last: date) -> None:
    month = Month.parse(text)
    assert (month.first, month.last, month.name) == (first, last, text)
    assert len(month.days()) == (last - first).days + 1
    assert Month.of(date(first.year, first.month, 17)) == month


@pytest.mark.parametrize("text", ["2026-13", "2026", "december", "2026-00", ""])
def test_a_bad_month_is_refused(text: str) -> None:
    with pytest.raises(InvalidRequestError):
        Month.parse(text)


def test_summary_fills_every_day_and_adds_up() -> None:
    rows = [
        total(3, "sato", "gpt-oss-120b", 100, 20),
        total(3, "suzuki", "gpt-oss-20b", 10, 2),
        total(29, "sato", "gpt-oss-120b", 5, 1),
        total(29, "gone", "gpt-oss-120b", 1, 1),
    ]
    groups = [GroupTotal("g1", "税務課", 2, 105, 21), GroupTotal("g2", None, 1, 1, 1)]
    report = summary(Month.parse("2028-02"), rows, groups)
    assert len(report["days"]) == 29 and report["days"][0] == {
        "day": date(2028, 2, 1),
        "requests": 0,
        "tokens": 0,
    }
    assert report["days"][2]["tokens"] == 132 and report["days"][28]["requests"] == 2
    assert report["total_tokens"] == 140 and report["total_requests"] == 4
    users = {u["username"]: (u["requests"], u["prompt_tokens"]) for u in report["by_user"]}
    assert users == {"sato": (2, 105), "suzuki": (1, 10), "id-gone": (1, 1)}
    models = {m["model"]: m["completion_tokens"] for m in report["by_model"]}
    assert models == {"gpt-oss-120b": 22, "gpt-oss-20b": 2}
    assert [g["group"] for g in report["by_group"]] == ["g2", "税務課"]


def test_csv_has_one_row_per_total() -> None:
    out = io.StringIO()
    write_csv(out, [total(3, "佐藤", "gpt-oss-120b", 100, 20)])
    lines = out.getvalue().splitlines()
    assert lines[0] == ",".join(CSV_COLUMNS)
    assert lines[1] == "2028-02-03,佐藤,,gpt-oss-120b,1,100,20,120,0"
