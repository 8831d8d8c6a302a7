"""Loading policy files: valid ones load, and every invalid one is refused naming its line."""

from __future__ import annotations

from pathlib import Path

import pytest

from mamori.domain.classification import Classification
from mamori.domain.endpoint import Residency
from mamori.domain.guard import GuardAction, InjectionAction
from mamori.domain.sovereignty import DataClass
from mamori.errors import ConfigError
from mamori.policy.sovereignty import Effect
from mamori.policy.sovereignty_file import (
    PolicyFileError,
    load_default_policy,
    load_policy_file,
    parse_classification,
    parse_policy,
)

VALID = """\
version = 1

[[rules]]
id = "onprem-all"
description_ja = "オンプレミスには全て送る。"
description_en = "Everything may go on-prem."
data = ["公開", "c1", "C2", "機密性3", "特定個人情報"]
endpoint = { residency = ["onprem"], terms_of_service = false }
effect = "allow"

[[rules]]
id = "masked-c1"
description_ja = "仮名化して送る。"
description_en = "Masked."
data = ["public", "機密性1"]
effect = "mask"
advice_en = "Use on-prem."

[rules.endpoint]
approved_for_masked = true
"""


def test_a_valid_file_loads_with_every_field(tmp_path: Path) -> None:
    path = tmp_path / "policy.toml"
    path.write_text(VALID, encoding="utf-8")
    policy = load_policy_file(path)
    first, second = policy.rules
    assert first.id == "onprem-all" and first.effect is Effect.ALLOW
    assert first.classes == frozenset(Classification) and first.special_personal
    assert first.endpoint.residency == frozenset({Residency.ONPREM})
    assert first.endpoint.terms_of_service is False
    assert second.classes == {Classification.PUBLIC, Classification.C1}
    assert not second.special_personal and second.effect is Effect.MASK
    assert second.endpoint.approved_for_masked is True and second.advice_en == "Use on-prem."
    assert policy.source == str(path)


def test_the_shipped_default_loads_with_descriptions_in_both_languages() -> None:
    policy = load_default_policy()
    assert len(policy.rules) >= 5
    assert all(r.description_ja and r.description_en for r in policy.rules)
    assert policy.rule("confidential-never-tos") is not None


def test_classification_names_in_japanese_and_english() -> None:
    assert parse_classification("機密性2") is Classification.C2
    assert parse_classification("C3") is Classification.C3
    assert parse_classification("public") is Classification.PUBLIC
    with pytest.raises(ValueError, match="機密性4"):
        parse_classification("機密性4")


def replace(old: str, new: str) -> str:
    assert old in VALID
    return VALID.replace(old, new, 1)


# (the file text, the line the message must name, a phrase it must contain)
INVALID = [
    (replace('id = "masked-c1"', 'id = "masked-c1'), 12, "Illegal character"),
    (replace("version = 1", "version = 2"), 1, "version must be 1"),
    (replace("version = 1", 'version = 1\ncolour = "red"'), 2, "unknown key 'colour'"),
    (replace('effect = "mask"', 'effect = "mask"\npriority = 3'), 17, "unknown key 'priority'"),
    (replace('"c1", "C2"', '"c1", "secret"'), 7, "unknown classification 'secret'"),
    (replace('data = ["public", "機密性1"]', "data = []"), 15, "non-empty list"),
    (replace('id = "masked-c1"', 'id = "onprem-all"'), 12, "duplicate rule id 'onprem-all'"),
    (replace('effect = "allow"', 'effect = "permit"'), 9, "allow, mask or deny"),
    (replace("terms_of_service = false }", "terms_of_service = true }"), 8, "約款型"),
    (replace(", terms_of_service = false }", " }"), 8, "terms_of_service = false"),
    (replace("approved_for_masked = true", "approved_for_masked = false"), 19, "approved_for"),
    (replace('residency = ["onprem"]', 'residency = ["moon"]'), 8, "residency"),
    (replace("approved_for_masked = true", "approved = true"), 19, "unknown endpoint"),
    (replace('description_en = "Masked."\n', ""), 11, "no 'description_en'"),
    (replace('id = "masked-c1"', 'id = "Masked C1"'), 12, "bad rule id"),
]


@pytest.mark.parametrize(("text", "line", "phrase"), INVALID)
def test_an_invalid_file_is_refused_naming_the_line(text: str, line: int, phrase: str) -> None:
    with pytest.raises(PolicyFileError) as caught:
        parse_policy(text, "policy.toml")
    assert caught.value.line == line, caught.value.message
    assert caught.value.message.startswith(f"policy.toml:{line}: ")
    assert phrase in caught.value.message


def test_an_empty_rule_set_is_refused() -> None:
    with pytest.raises(PolicyFileError, match="no rules"):
        parse_policy("version = 1\n", "empty.toml")


def test_a_rule_that_is_not_a_table_is_refused() -> None:
    with pytest.raises(PolicyFileError, match=r"policy\.toml.*rules"):
        parse_policy('rules = ["allow everything"]\n', "policy.toml")


def test_a_missing_file_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot read"):
        load_policy_file(tmp_path / "absent.toml")


RULE = (
    '[[rules]]\nid = "{id}"\ndescription_ja = "あ"\ndescription_en = "a"\n'
    'data = ["公開"]\neffect = "deny"\n'
)


def test_findings_can_raise_a_kind_and_unlisted_kinds_keep_the_built_in_class() -> None:
    text = (
        RULE.format(id="r") + '\n[findings]\naddress = ["機密性3"]\ncorporate_number = ["公開"]\n'
    )
    policy = parse_policy(text, "p.toml")
    assert policy.finding_classes["address"] == DataClass(Classification.C3)
    assert policy.finding_classes["corporate_number"] == DataClass(Classification.PUBLIC)
    assert policy.finding_classes["my_number"] == DataClass(Classification.C3, True)
    assert policy.finding_classes["phone"] == DataClass(Classification.C2)


@pytest.mark.parametrize(
    ("text", "line"),
    [
        (RULE.format(id="r") + '\n[findings]\nphone = ["機密性2"]\nmy_number = ["機密性3"]\n', 10),
        (RULE.format(id="r") + '\n[findings]\nperson = ["公開"]\n', 9),
        ('version = 1\nfindings.email = ["機密性1"]\n\n' + RULE.format(id="r"), 2),
        ('findings = { birth_date = ["公開"] }\n' + RULE.format(id="r"), 1),
    ],
)
def test_findings_may_not_fall_below_the_governance_floor(text: str, line: int) -> None:
    with pytest.raises(PolicyFileError) as caught:
        parse_policy(text, "p.toml")
    assert caught.value.line == line and "governance floor" in caught.value.problem


@pytest.mark.parametrize(
    ("rule_id", "phrase"),
    [("policy.no-endpoint", "reserved"), ("classify.label", "reserved"), ("x" * 65, "bad rule")],
)
def test_rule_ids_fit_the_audit_record_and_leave_mamoris_own_alone(
    rule_id: str, phrase: str
) -> None:
    with pytest.raises(PolicyFileError, match=phrase):
        parse_policy(RULE.format(id=rule_id), "p.toml")


def test_the_documented_example_loads() -> None:
    guide = (Path(__file__).parents[2] / "docs" / "sovereignty.md").read_text(encoding="utf-8")
    example = guide.split("```toml\n", 1)[1].split("```", 1)[0]
    policy = parse_policy(example, "docs/sovereignty.md")
    assert [r.id for r in policy.rules] == ["c2-onprem-or-approved"]


def test_actions_choose_what_the_guard_does_per_kind() -> None:
    policy = parse_policy(
        RULE.format(id="r") + '\n[actions]\nmy_number = "block"\ncredit_card = "mask"\n', "p"
    )
    assert policy.actions == {"my_number": GuardAction.BLOCK, "credit_card": GuardAction.MASK}
    with pytest.raises(PolicyFileError) as caught:
        parse_policy(RULE.format(id="r") + '\n[actions]\nphone = "hide"\n', "p.toml")
    assert caught.value.line == 9 and "block, mask, pseudonymise, flag" in caught.value.problem


def test_injection_actions_by_source_default_to_dropping_untrusted_text() -> None:
    default = parse_policy(RULE.format(id="r"), "p")
    assert default.injection["document"] is InjectionAction.DROP
    assert default.injection["user"] is InjectionAction.WARN
    strict = parse_policy(RULE.format(id="r") + '\n[injection]\nuser = "block"\n', "p")
    assert strict.injection["user"] is InjectionAction.BLOCK
    with pytest.raises(PolicyFileError, match="unknown source") as caught:
        parse_policy(RULE.format(id="r") + '\n[injection]\nemail = "drop"\n', "p.toml")
    assert caught.value.line == 9
