"""What the person typed becomes the prompt: checked against the form, inserted as text (never
run as template code), with the options the template reads."""

from __future__ import annotations

import pytest

from mamori.errors import InvalidRequestError
from mamori.usecases.catalog import builtin_use_cases, parse_definition
from mamori.usecases.prompt import UseCaseInputError, read_values, render_prompt


def test_a_select_and_a_checkbox_shape_the_prompt() -> None:
    notice = builtin_use_cases()["citizen_notice"]
    plain = render_prompt(notice, read_values(notice, {"content": "窓口を休みます。"}))
    easy = render_prompt(
        notice, read_values(notice, {"content": "窓口を休みます。", "easy_japanese": True})
    )
    assert "やさしい日本語" not in plain
    assert "「やさしい日本語」で書いてください" in easy
    assert plain.endswith("窓口を休みます。")
    assert "\n\n\n" not in easy  # the options left out leave no holes


def test_the_translation_direction_chooses_the_instruction() -> None:
    translate = builtin_use_cases()["translate"]
    to_japanese = render_prompt(
        translate, read_values(translate, {"text": "Hello", "direction": "en_ja"})
    )
    assert to_japanese.startswith("次の英語を日本語に翻訳してください。")


def test_template_syntax_typed_into_a_field_is_inserted_as_text() -> None:
    summary = builtin_use_cases()["summarize"]
    typed = "{{ 7 * 7 }} {% for x in range(3) %}x{% endfor %} {{ ''.__class__ }}"
    prompt = render_prompt(summary, read_values(summary, {"text": typed}))
    assert prompt.endswith(typed)
    assert "49" not in prompt


def test_the_sandbox_refuses_a_template_reaching_into_python() -> None:
    use_case = parse_definition(
        {
            "id": "sneaky",
            "title_ja": "x",
            "title_en": "x",
            "fields": [{"name": "text", "label_ja": "x", "label_en": "x"}],
            "prompt": "{{ text.__class__.__mro__[1].__subclasses__() }}",
        }
    )
    with pytest.raises(InvalidRequestError, match="unsafe"):
        render_prompt(use_case, read_values(use_case, {"text": "a"}))


@pytest.mark.parametrize(
    "prompt",
    [
        "{{ text * 100000000 }}",  # one repetition far past any prompt
        "{{ 2 ** 100000000 }}",
        "{{ text * 9000 }}{{ text * 9000 }}",  # each within bounds, together too long
    ],
)
def test_a_template_cannot_grow_a_prompt_without_bound(prompt: str) -> None:
    use_case = parse_definition(
        {
            "id": "greedy",
            "title_ja": "x",
            "title_en": "x",
            "fields": [{"name": "text", "label_ja": "x", "label_en": "x"}],
            "prompt": prompt,
        }
    )
    with pytest.raises(InvalidRequestError, match=r"too long|not available|over 500000"):
        render_prompt(use_case, read_values(use_case, {"text": "x" * 50}))


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"text": "   "}, "text"),  # required, and only spaces
        ({"text": "x" * 60_001}, "text"),  # over the field's limit
        ({"text": "a", "length": "enormous"}, "length"),  # not one of the choices
        ({"text": "a", "nonsense": "1"}, "nonsense"),  # not a field of this form
        ({"text": ["a"]}, "text"),  # not text
    ],
)
def test_bad_input_names_the_field(values: dict[str, object], field: str) -> None:
    summary = builtin_use_cases()["summarize"]
    with pytest.raises(UseCaseInputError) as caught:
        read_values(summary, values)
    assert caught.value.field == field


def test_a_checkbox_takes_only_true_or_false() -> None:
    proofread = builtin_use_cases()["proofread"]
    with pytest.raises(UseCaseInputError):
        read_values(proofread, {"text": "a", "keigo": "yes"})
    assert read_values(proofread, {"text": "a"})["keigo"] is False
