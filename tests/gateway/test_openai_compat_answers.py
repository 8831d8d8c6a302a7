"""Whether a stream carries an answer at all: markup in the reasoning field is re-split, and a
clean end with only reasoning (or nothing) is a clear error, never an empty answer."""

from __future__ import annotations

import aiohttp
import pytest

from mamori.domain.chat import ContentDelta, Done, FinishReason, ReasoningDelta, Usage
from mamori.errors import UpstreamNoAnswerError
from tests.gateway.conftest import backend_for, collect, collect_until_error, texts
from tests.support.fake_upstream import FakeUpstream, Script

FINAL_IN_REASONING = (
    "User greets.<|end|><|start|>assistant<|channel|>final<|message|>こんにちは！<|return|>"
)


@pytest.mark.parametrize("size", [1, 4, len(FINAL_IN_REASONING)])
async def test_a_final_channel_inside_the_reasoning_field_becomes_the_answer(
    fake: FakeUpstream, client: aiohttp.ClientSession, size: int
) -> None:
    fake.script = Script(
        reasoning_field="reasoning_content",
        reasoning=tuple(
            FINAL_IN_REASONING[i : i + size] for i in range(0, len(FINAL_IN_REASONING), size)
        ),
        content=(),
    )
    events = await collect(backend_for(fake.base_url, client, "sglang"))
    assert texts(events, ContentDelta) == "こんにちは！"
    assert texts(events, ReasoningDelta) == "User greets."
    assert events[-1] == Done()


async def test_stray_markers_in_reasoning_never_move_it_into_the_answer(
    fake: FakeUpstream, client: aiohttp.ClientSession
) -> None:
    fake.script = Script(reasoning=("a <", "| b", "<|end|>", "c"), content=("ok",))
    events = await collect(backend_for(fake.base_url, client))
    assert texts(events, ReasoningDelta) == "a <| bc"
    assert texts(events, ContentDelta) == "ok"


@pytest.mark.parametrize(
    "script",
    [
        Script(reasoning=("The answer is", " 42."), content=()),
        Script(reasoning_field=None, content=()),
        Script(reasoning=("hm",), content=("\n", " ")),
    ],
    ids=["reasoning-only", "both-empty", "whitespace-only"],
)
async def test_a_stream_without_an_answer_is_a_clear_error(
    fake: FakeUpstream, client: aiohttp.ClientSession, script: Script
) -> None:
    fake.script = script
    events, error = await collect_until_error(backend_for(fake.base_url, client))
    assert isinstance(error, UpstreamNoAnswerError)
    assert error.code == "engine_no_answer" and "gpu-1" in str(error)
    # The reasoning is passed on as reasoning (the turn keeps it), never as the answer.
    assert texts(events, ReasoningDelta) == "".join(script.reasoning_tokens())
    assert texts(events, ContentDelta).strip() == ""
    # Raised before usage: with nothing streamed yet the client must get a plain error.
    assert not any(isinstance(e, Done | Usage) for e in events)


async def test_running_out_of_tokens_while_reasoning_is_reported_as_length(
    fake: FakeUpstream, client: aiohttp.ClientSession
) -> None:
    fake.script = Script(reasoning=("long", " thought"), content=(), finish_reason="length")
    events = await collect(backend_for(fake.base_url, client))
    assert events[-1] == Done(FinishReason.LENGTH)
    assert texts(events, ContentDelta) == ""
