"""Placeholders: consistent per value, masked for good or restored, also from split chunks."""

from __future__ import annotations

import pytest

from mamori.domain.chat import ContentDelta, Done, ReasoningDelta
from mamori.domain.decision import Finding
from mamori.domain.guard import GuardAction
from mamori.guard.pseudonymise import EventRestorer, Restorer, Vault, transform

P, M, F = GuardAction.PSEUDONYMISE, GuardAction.MASK, GuardAction.FLAG


def spans(text: str, *pairs: tuple[str, str]) -> list[Finding]:
    return [
        Finding(kind, text.index(value), text.index(value) + len(value)) for kind, value in pairs
    ]


def test_the_same_value_gets_the_same_placeholder_and_kinds_count_apart() -> None:
    vault = Vault()
    text = "山田太郎さんと鈴木一郎さん、山田太郎さんの電話 090-1111-2222"
    findings = [
        Finding("person", 0, 4),
        Finding("person", 7, 11),
        Finding("person", 14, 18),
        *spans(text, ("phone", "090-1111-2222")),
    ]
    out = transform(text, findings, {"person": P, "phone": P}, vault)
    assert out == "〔氏名1〕さんと〔氏名2〕さん、〔氏名1〕さんの電話 〔電話番号1〕"
    assert vault.original("〔氏名2〕") == "鈴木一郎" and len(vault) == 3


def test_masking_is_for_good_and_flagging_changes_nothing() -> None:
    vault = Vault()
    text = "カード 4111 1111 1111 1111、メール a@example.jp"
    findings = spans(text, ("credit_card", "4111 1111 1111 1111"), ("email", "a@example.jp"))
    out = transform(text, findings, {"credit_card": M, "email": F}, vault)
    assert out == "カード 〔カード番号〕、メール a@example.jp"
    assert len(vault) == 0 and Restorer(vault).feed(out) == out


def test_known_values_are_hidden_where_no_detector_sees_them() -> None:
    vault = Vault()
    transform("佐藤花子さん", [Finding("person", 0, 4)], {"person": P}, vault)
    assert vault.hide_known("回答: 佐藤花子 様宛") == "回答: 〔氏名1〕 様宛"


@pytest.mark.parametrize("size", [1, 2, 3, 5, 8])
def test_placeholders_split_across_chunks_are_restored(size: int) -> None:
    vault = Vault()
    sent = transform(
        "田中次郎さんに 03-1234-5678 へ",
        [Finding("person", 0, 4), Finding("phone", 8, 20)],
        {"person": P, "phone": P},
        vault,
    )
    answer = f"承知しました。{sent}電話します。〔不明〕は残ります。"
    restorer = Restorer(vault)
    out = "".join(restorer.feed(answer[i : i + size]) for i in range(0, len(answer), size))
    out += restorer.flush()
    assert out == "承知しました。田中次郎さんに 03-1234-5678 へ電話します。〔不明〕は残ります。"
    assert restorer.restored == 2


def test_an_unclosed_bracket_is_released_once_it_cannot_be_a_placeholder() -> None:
    restorer = Restorer(Vault())
    held = restorer.feed("〔注")
    assert held == ""
    assert restorer.feed("意：" + "長" * 40) == "〔注意：" + "長" * 40


def test_the_event_restorer_flushes_before_the_end_of_the_stream() -> None:
    vault = Vault()
    transform("佐藤", [Finding("person", 0, 2)], {"person": P}, vault)
    restorer = EventRestorer(vault)
    events = [
        *restorer.restore(ReasoningDelta("〔氏")),
        *restorer.restore(ContentDelta("宛先は〔氏名")),
        *restorer.restore(Done()),
    ]
    # Nothing is lost at the end: held pieces that never closed go out before Done.
    assert events == [
        ContentDelta("宛先は"),
        ReasoningDelta("〔氏"),
        ContentDelta("〔氏名"),
        Done(),
    ]
    restorer = EventRestorer(vault)
    events = [
        *restorer.restore(ContentDelta("宛先は〔氏名")),
        *restorer.restore(ContentDelta("1〕")),
    ]
    assert events == [ContentDelta("宛先は"), ContentDelta("佐藤")]
