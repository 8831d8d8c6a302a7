"""Leaked harmony markup is re-split by channel, whatever the chunk boundaries."""

from __future__ import annotations

import pytest

from mamori.domain.chat import ContentDelta, ReasoningDelta
from mamori.gateway.harmony import HarmonyRepair

LEAKED = (
    "<|channel|>analysis<|message|>User asks the capital. Answer Tokyo.<|end|>"
    "<|start|>assistant<|channel|>final<|message|>日本の首都は東京です。"
)


def run(chunks: list[str], *, from_reasoning: bool = False) -> tuple[str, str]:
    repair = HarmonyRepair(reasoning=from_reasoning)
    events = [e for chunk in chunks for e in repair.feed(chunk)] + repair.flush()
    content = "".join(e.text for e in events if isinstance(e, ContentDelta))
    reasoning = "".join(e.text for e in events if isinstance(e, ReasoningDelta))
    return content, reasoning


def test_plain_text_passes_untouched() -> None:
    assert run(["Hello", ", world", " a<b and x<|y"]) == ("Hello, world a<b and x<|y", "")


@pytest.mark.parametrize("size", [1, 2, 3, 5, 7, 11, 1000])
def test_leaked_markup_is_resplit_at_any_chunk_size(size: int) -> None:
    chunks = [LEAKED[i : i + size] for i in range(0, len(LEAKED), size)]
    content, reasoning = run(chunks)
    assert content == "日本の首都は東京です。"
    assert reasoning == "User asks the capital. Answer Tokyo."


def test_commentary_preamble_is_content_and_markup_never_shows() -> None:
    text = (
        "<|channel|>commentary<|message|>Checking…<|end|>"
        "<|start|>assistant<|channel|>final<|message|>Done<|return|>"
    )
    content, reasoning = run([text])
    assert content == "Checking…Done"
    assert reasoning == ""
    assert "<|" not in content


@pytest.mark.parametrize("channel", ["analysis", "commentary"])
def test_a_tool_call_in_markup_becomes_a_tool_call(channel: str) -> None:
    from mamori.domain.chat import ToolCallDelta

    text = (
        "<|channel|>analysis<|message|>Need the weather.<|end|>"
        f"<|start|>assistant<|channel|>{channel} to=functions.get_weather <|constrain|>json"
        '<|message|>{"city": "東京"}<|call|>'
    )
    for size in (1, 3, len(text)):
        repair = HarmonyRepair()
        events = [e for i in range(0, len(text), size) for e in repair.feed(text[i : i + size])]
        events += repair.flush()
        calls = [e for e in events if isinstance(e, ToolCallDelta)]
        assert [(c.name, c.arguments) for c in calls] == [("get_weather", '{"city": "東京"}')]
        assert not any(isinstance(e, ContentDelta) for e in events)
        reasoning = "".join(e.text for e in events if isinstance(e, ReasoningDelta))
        assert reasoning == "Need the weather."


def test_a_reasoning_field_stays_reasoning_until_markup_says_final() -> None:
    """Engines with a separate reasoning field (Ollama's ``thinking``) can leak markup there."""
    assert run(["Let me", " think"], from_reasoning=True) == ("", "Let me think")
    assert run(list(LEAKED), from_reasoning=True) == (
        "日本の首都は東京です。",
        "User asks the capital. Answer Tokyo.",
    )


@pytest.mark.parametrize("size", [1, 3, 1000])
def test_in_the_reasoning_field_only_a_final_message_is_content(size: int) -> None:
    text = "Thinking<|end|>stray<|start|>assistant<|channel|>final<|message|>答え<|return|>more"
    repair = HarmonyRepair(reasoning=True)
    events = [e for i in range(0, len(text), size) for e in repair.feed(text[i : i + size])]
    events += repair.flush()
    content = "".join(e.text for e in events if isinstance(e, ContentDelta))
    reasoning = "".join(e.text for e in events if isinstance(e, ReasoningDelta))
    assert (content, reasoning) == ("答え", "Thinkingstraymore")
