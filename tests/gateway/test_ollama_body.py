"""Ollama's native /api/chat: the request body mamori builds (pure, no engine)."""

from __future__ import annotations

import pytest

from mamori.domain.chat import (
    ChatMessage,
    SamplingOptions,
    ToolCall,
    ToolSpec,
    UpstreamRequest,
)
from mamori.errors import InvalidRequestError
from mamori.gateway.dialects import get_dialect
from mamori.gateway.ollama_native import build_ollama_body

OLLAMA = get_dialect("ollama_native")
TOOL_LOOP = (
    ChatMessage("developer", "Answer in Japanese."),
    ChatMessage("user", "東京の天気は?"),
    ChatMessage(
        "assistant",
        "",
        reasoning="I should call the weather tool.",
        tool_calls=(ToolCall("call_1", "weather", '{"city": "東京", "days": 2}'),),
    ),
    ChatMessage("tool", '{"temp": 21}', tool_call_id="call_1"),
)


# --- the request body --------------------------------------------------------------------------


def test_effort_goes_as_a_think_string_and_sampling_inside_options() -> None:
    request = UpstreamRequest(
        upstream_model="gpt-oss:120b",
        messages=(ChatMessage("user", "こんにちは"),),
        sampling=SamplingOptions(temperature=1.0, top_p=0.9, max_tokens=64, stop=("##",), seed=7),
        reasoning_effort="high",
        context_length=131072,
    )
    body = build_ollama_body(OLLAMA, request, True)
    assert body == {
        "model": "gpt-oss:120b",
        "messages": [{"role": "user", "content": "こんにちは"}],
        "stream": True,
        "options": {
            "temperature": 1.0,
            "top_p": 0.9,
            "num_predict": 64,
            "stop": ["##"],
            "seed": 7,
            "num_ctx": 131072,
        },
        "think": "high",
    }


def test_nothing_optional_is_sent_when_unset() -> None:
    request = UpstreamRequest(upstream_model="m", messages=(ChatMessage("user", "x"),))
    body = build_ollama_body(OLLAMA, request, False)
    assert body == {"model": "m", "messages": [{"role": "user", "content": "x"}], "stream": False}


def test_tool_loop_in_ollamas_shape() -> None:
    tool = ToolSpec(name="weather", description="d", parameters={"type": "object"})
    request = UpstreamRequest(
        upstream_model="m", messages=TOOL_LOOP, tools=(tool,), tool_choice="required"
    )
    body = build_ollama_body(OLLAMA, request, True)
    developer, user, assistant, result = body["messages"]
    assert developer == {"role": "system", "content": "Answer in Japanese."}
    assert user == {"role": "user", "content": "東京の天気は?"}
    assert assistant == {
        "role": "assistant",
        "content": "",
        "thinking": "I should call the weather tool.",
        "tool_calls": [{"function": {"name": "weather", "arguments": {"city": "東京", "days": 2}}}],
    }
    # The result names its tool, found through the call id it answers.
    assert result == {"role": "tool", "content": '{"temp": 21}', "tool_name": "weather"}
    assert body["tools"] == [
        {
            "type": "function",
            "function": {"name": "weather", "description": "d", "parameters": {"type": "object"}},
        }
    ]
    assert "tool_choice" not in body


def test_tool_choice_none_sends_no_tools() -> None:
    request = UpstreamRequest(
        upstream_model="m",
        messages=(ChatMessage("user", "x"),),
        tools=(ToolSpec(name="f"),),
        tool_choice="none",
    )
    assert "tools" not in build_ollama_body(OLLAMA, request, True)


def test_tool_call_arguments_that_are_no_object_are_refused() -> None:
    bad = ChatMessage("assistant", "", tool_calls=(ToolCall("c", "f", "[1, 2]"),))
    request = UpstreamRequest(upstream_model="m", messages=(bad,))
    with pytest.raises(InvalidRequestError):
        build_ollama_body(OLLAMA, request, True)
