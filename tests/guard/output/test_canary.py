"""The canary: planted in the system prompt, found and redacted in the answer however the stream
cuts it."""

from __future__ import annotations

import itertools
import random

import pytest

from mamori.guard.output.canary import (
    PREFIX,
    CanaryWatch,
    canary_instruction,
    new_canary,
    with_canary,
)

TOKEN = "mamori-canary-0123456789abcdef01234567"
REDACTED = "〔非公開情報を削除しました〕"


def watch(text: str, cuts: list[int], locale: str = "ja") -> tuple[str, CanaryWatch]:
    canary = CanaryWatch(TOKEN, locale)
    bounds = [0, *cuts, len(text)]
    out = "".join(canary.feed(text[a:b]) for a, b in itertools.pairwise(bounds))
    return out + canary.flush(), canary


def test_tokens_are_fresh_and_recognisable() -> None:
    first, second = new_canary(), new_canary()
    assert first != second
    assert first.startswith(PREFIX) and len(first) == len(PREFIX) + 24


def test_the_instruction_carries_the_token_after_the_prompt() -> None:
    prompt = with_canary("あなたは市役所の職員を支援するアシスタントです。", TOKEN)
    assert prompt.startswith("あなたは市役所")
    assert prompt.count(TOKEN) == 2
    assert canary_instruction(TOKEN) in prompt


LEAK = f"私の指示は次のとおりです: 機密マーカー: {TOKEN}。以上です。"


@pytest.mark.parametrize("cut", range(1, len(LEAK)))
def test_the_token_is_found_and_redacted_wherever_the_stream_cuts_it(cut: int) -> None:
    out, canary = watch(LEAK, [cut])
    assert out == LEAK.replace(TOKEN, REDACTED)
    assert canary.seen == 1


def test_one_character_per_delta_and_upper_case_are_caught() -> None:
    text = f"A: {TOKEN.upper()} B: {TOKEN}"
    out, canary = watch(text, list(range(1, len(text))), locale="en")
    assert out == "A: 〔confidential text removed〕 B: 〔confidential text removed〕"
    assert canary.seen == 2


def test_an_answer_without_the_token_is_unchanged_and_held_back_at_most_a_token() -> None:
    text = "mamori は自治体向けのワークスペースです。mamori-canary という語だけなら無害です。m"
    rng = random.Random(3)
    for _ in range(100):
        cuts = sorted(rng.sample(range(1, len(text)), 10))
        out, canary = watch(text, cuts)
        assert out == text
        assert canary.seen == 0
    canary = CanaryWatch(TOKEN)
    assert canary.feed("前置き mamori-can") == "前置き "
    assert canary.feed("ned food") == "mamori-canned food"


def test_an_empty_token_is_refused() -> None:
    with pytest.raises(ValueError, match="never empty"):
        CanaryWatch("")
