"""A use case's definition is checked when it is saved: its template must parse and name only
its own fields, and its fields must make sense for their kind."""

from __future__ import annotations

from typing import Any

import pytest

from mamori.usecases.catalog import UseCaseDefinitionError, builtin_use_cases, parse_definition
from mamori.usecases.definition import conversation_title


def definition(**changes: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "id": "memo",
        "title_ja": "メモ",
        "title_en": "Memo",
        "fields": [{"name": "text", "label_ja": "本文", "label_en": "Text", "required": True}],
        "prompt": "要約して: {{ text }}",
    }
    base.update(changes)
    return base


def test_the_shipped_use_cases_include_the_eight_the_issue_names() -> None:
    shipped = builtin_use_cases()
    assert {
        "summarize",
        "translate",
        "proofread",
        "minutes",
        "council_answer",
        "email",
        "citizen_notice",
        "inquiry_answer",
    } <= set(shipped)
    assert shipped["council_answer"].knowledge == "required"
    assert shipped["inquiry_answer"].knowledge == "optional"
    assert shipped["citizen_notice"].outside_use
    easy = [f for f in shipped["citizen_notice"].fields if f.kind == "checkbox"]
    assert [f.name for f in easy] == ["easy_japanese"]


def test_a_valid_definition_parses() -> None:
    use_case = parse_definition(definition())
    assert use_case.id == "memo"
    assert use_case.fields[0].kind == "textarea"


@pytest.mark.parametrize(
    ("changes", "complaint"),
    [
        ({"prompt": "{{ missing }}"}, "unknown fields: missing"),
        ({"prompt": "{% if text %}never closed"}, "prompt template line 1"),
        ({"id": "Bad Id"}, "id"),
        ({"fields": []}, "fields"),
        (
            {"fields": [{"name": "x", "kind": "select", "label_ja": "x", "label_en": "x"}]},
            "needs choices",
        ),
        (
            {
                "fields": [
                    {"name": "text", "label_ja": "a", "label_en": "a"},
                    {"name": "text", "label_ja": "b", "label_en": "b"},
                ]
            },
            "same name",
        ),
        ({"knowledge_bases": ["規程集"]}, "knowledge is 'none'"),
        ({"surprise": 1}, "surprise"),
        # What could spend the server's time or memory, or reach past the template.
        ({"prompt": "{% for a in text %}{% for b in text %}{% endfor %}{% endfor %}"}, "not: for"),
        ({"prompt": "{% macro m() %}{{ m() }}{% endmacro %}{{ m() }}"}, "not: macro"),
        ({"prompt": "{% include 'x' %}{{ text }}"}, "not: include"),
        ({"prompt": "{{ range(10) }}{{ text }}"}, "unknown fields: range"),
        ({"prompt": "{{ lipsum(100) }}{{ text }}"}, "unknown fields: lipsum"),
        ({"prompt": "{{ text|replace('a', text) }}"}, "No filter named 'replace'"),
        ({"prompt": "{{ text|center(100000000) }}"}, "No filter named 'center'"),
    ],
)
def test_a_mistake_is_refused_with_what_to_fix(changes: dict[str, Any], complaint: str) -> None:
    with pytest.raises(UseCaseDefinitionError) as caught:
        parse_definition(definition(**changes))
    assert complaint in caught.value.message


def test_the_filters_a_prompt_needs_are_there() -> None:
    prompt = "{{ text|trim|upper }} {{ text|length }} {{ (text|default('x'))|truncate(5) }}"
    assert parse_definition(definition(prompt=prompt)).prompt == prompt


def test_a_conversation_is_titled_by_the_use_case_and_what_was_given() -> None:
    use_case = parse_definition(definition())
    given = "令和7年度\n予算編成方針について、各課に通知する件"
    assert (
        conversation_title(use_case, "ja", given)
        == "メモ: 令和7年度 予算編成方針について、各課に通知する…"
    )
    assert conversation_title(use_case, "en", "  ") == "Memo"
