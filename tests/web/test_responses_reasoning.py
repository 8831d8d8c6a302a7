"""/v1/responses under the reasoning display policy, through the official OpenAI SDK: a summary
display gives a reasoning item whose summary the summariser wrote, a hidden display gives no
reasoning item, and neither ever carries the raw reasoning."""

from __future__ import annotations

import json
from typing import Any

from openai.types.responses import Response, ResponseReasoningItem

from mamori.domain.reasoning import ReasoningDisplay
from tests.support.fake_upstream import Script
from tests.web.conftest import MODEL, Live
from tests.web.test_reasoning_display import (
    REASONING,
    SUMMARY,
    answer_with_summariser,
    member_of,
)
from tests.web.test_responses_api import raw_events, sdk

ANSWER = "東京です"


def assert_no_raw_reasoning(*payloads: Any) -> None:
    dumped = json.dumps(payloads, ensure_ascii=False, default=str)
    # "です" ends the answer too: the distinctive pieces are what must never show.
    for piece in REASONING[:2]:
        assert piece not in dumped


async def user_with(live: Live, display: ReasoningDisplay) -> str:
    username = await live.new_user()
    await member_of(live, username, reasoning_display=display)
    return await live.api_key(username)


def the_summary_item(output: list[Any]) -> ResponseReasoningItem:
    assert [item.type for item in output] == ["message", "reasoning"]
    reasoning = output[1]
    assert isinstance(reasoning, ResponseReasoningItem)
    assert [(s.type, s.text) for s in reasoning.summary] == [("summary_text", SUMMARY)]
    assert not reasoning.content
    return reasoning


async def test_a_summary_display_gives_a_reasoning_item_with_the_summary(live: Live) -> None:
    live.script_by_request = answer_with_summariser
    client = sdk(live, await user_with(live, ReasoningDisplay.SUMMARY))

    whole = await client.responses.create(model=MODEL, input="首都は")
    Response.model_validate(whole.model_dump(), strict=True)
    assert whole.output_text == ANSWER
    the_summary_item(whole.output)
    assert_no_raw_reasoning(whole.model_dump())

    kinds: list[str] = []
    summary_deltas: list[str] = []
    async with client.responses.stream(model=MODEL, input="首都は") as stream:
        async for event in stream:
            kinds.append(event.type)
            if event.type == "response.reasoning_summary_text.delta":
                summary_deltas.append(event.delta)
        final = await stream.get_final_response()
    assert final.output_text == ANSWER
    streamed = the_summary_item(final.output)
    assert "".join(summary_deltas) == SUMMARY
    assert "response.reasoning_text.delta" not in kinds
    assert kinds[-7:] == [
        "response.output_item.added",
        "response.reasoning_summary_part.added",
        "response.reasoning_summary_text.delta",
        "response.reasoning_summary_text.done",
        "response.reasoning_summary_part.done",
        "response.output_item.done",
        "response.completed",
    ]
    assert streamed.model_dump(exclude={"id"}) == whole.output[1].model_dump(exclude={"id"})

    # The bytes themselves, each event checked strictly: progress left nothing behind.
    events = await raw_events(live, await user_with(live, ReasoningDisplay.SUMMARY), {"input": "x"})
    numbers = [e["sequence_number"] for e in events]
    assert numbers == list(range(len(events)))
    done = [e["item"] for e in events if e["type"] == "response.output_item.done"]
    assert done == events[-1]["response"]["output"]
    assert done[1]["summary"] == [{"type": "summary_text", "text": SUMMARY}]
    assert_no_raw_reasoning(events)


async def test_a_hidden_display_gives_no_reasoning_item(live: Live) -> None:
    live.script = Script(reasoning=REASONING, content=("東京", "です"))
    key = await user_with(live, ReasoningDisplay.HIDDEN)
    client = sdk(live, key)

    whole = await client.responses.create(model=MODEL, input="首都は")
    Response.model_validate(whole.model_dump(), strict=True)
    assert [item.type for item in whole.output] == ["message"]
    assert whole.output_text == ANSWER
    assert_no_raw_reasoning(whole.model_dump())

    events = await raw_events(live, key, {"input": "首都は"})
    assert not [e for e in events if "reasoning" in e["type"]]
    assert [i["type"] for i in events[-1]["response"]["output"]] == ["message"]
    assert [e["sequence_number"] for e in events] == list(range(len(events)))
    assert_no_raw_reasoning(events)
