"""Responses API requests as chat turns: items to messages, and what is refused by name."""

from __future__ import annotations

from typing import Any

import pytest

from mamori.domain.chat import ChatMessage, ToolCall
from mamori.web.responses_schema import ResponsesRequest


def request(**fields: Any) -> ResponsesRequest:
    return ResponsesRequest.model_validate({"model": "m", "input": "x", **fields})


def test_a_tool_loop_in_items_becomes_one_assistant_message_per_turn() -> None:
    body = request(
        instructions="be brief",
        input=[
            {"role": "user", "content": "weather in Tokyo and Osaka?"},
            {
                "type": "reasoning",
                "summary": [],
                "content": [{"type": "reasoning_text", "text": "two"}],
            },
            {
                "type": "message",
                "role": "assistant",
                "content": [{"type": "output_text", "text": "…"}],
            },
            {"type": "function_call", "call_id": "a", "name": "w", "arguments": '{"c":"Tokyo"}'},
            {"type": "function_call", "call_id": "b", "name": "w", "arguments": '{"c":"Osaka"}'},
            {"type": "function_call_output", "call_id": "a", "output": "sunny"},
            {
                "type": "function_call_output",
                "call_id": "b",
                "output": [{"type": "input_text", "text": "rain"}],
            },
        ],
    )
    assert body.unsupported() is None
    assert body.messages() == [
        ChatMessage(role="system", content="be brief"),
        ChatMessage(role="user", content="weather in Tokyo and Osaka?"),
        ChatMessage(
            role="assistant",
            content="…",
            reasoning="two",
            tool_calls=(ToolCall("a", "w", '{"c":"Tokyo"}'), ToolCall("b", "w", '{"c":"Osaka"}')),
        ),
        ChatMessage(role="tool", content="sunny", tool_call_id="a"),
        ChatMessage(role="tool", content="rain", tool_call_id="b"),
    ]


def test_function_tools_and_a_named_choice_take_the_chat_shape() -> None:
    body = request(
        tools=[{"type": "function", "name": "w", "parameters": {"type": "object"}}],
        tool_choice={"type": "function", "name": "w"},
        max_output_tokens=10,
    )
    [spec] = body.tool_specs()
    assert (spec.name, spec.description, spec.parameters) == ("w", "", {"type": "object"})
    assert body.domain_tool_choice() == {"type": "function", "function": {"name": "w"}}
    assert body.sampling().max_tokens == 10
    assert body.echo()["tools"] == [
        {"type": "function", "name": "w", "parameters": {"type": "object"}}
    ]


@pytest.mark.parametrize(
    "fields",
    [
        {},
        {"store": False, "background": False, "text": {"format": {"type": "text"}}},
        {"include": ["reasoning.encrypted_content"], "reasoning": {"summary": "auto"}},
    ],
)
def test_harmless_settings_are_accepted(fields: dict[str, Any]) -> None:
    assert request(**fields).unsupported() is None
