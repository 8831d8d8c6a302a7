"""Dialects as data: the registry, reading reasoning from any field, and request bodies."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace

import orjson
import pytest

from mamori.domain.chat import ChatMessage, SamplingOptions, ToolCall, UpstreamRequest
from mamori.errors import ConfigError
from mamori.gateway.dialects import (
    DIALECTS,
    Dialect,
    build_request_body,
    get_dialect,
    read_reasoning,
    register_dialect,
)
from mamori.gateway.wire import WIRES

BUILT_IN = ("vllm", "sglang", "llamacpp", "ollama", "ollama_native", "openai")


@pytest.fixture
def restore_registry() -> Iterator[None]:
    saved = dict(DIALECTS)
    yield
    DIALECTS.clear()
    DIALECTS.update(saved)


# --- the registry ------------------------------------------------------------------------------


@pytest.mark.parametrize("name", BUILT_IN)
def test_built_in_dialects_are_registered(name: str) -> None:
    assert get_dialect(name).name == name


def test_lookup_ignores_case_and_surrounding_space() -> None:
    assert get_dialect(" vLLM ") is get_dialect("vllm")


def test_unknown_dialect_names_the_valid_ones() -> None:
    with pytest.raises(ConfigError) as caught:
        get_dialect("tgi")
    assert "tgi" in str(caught.value)
    for name in BUILT_IN:
        assert name in str(caught.value)


@pytest.mark.usefixtures("restore_registry")
def test_a_plugin_registers_like_a_built_in() -> None:
    tgi = register_dialect(Dialect(name="tgi", reasoning_fields=("thinking",)))
    assert get_dialect("tgi") is tgi
    with pytest.raises(ConfigError, match="already registered"):
        register_dialect(Dialect(name="tgi", reasoning_fields=("reasoning",)))
    register_dialect(Dialect(name="tgi", reasoning_fields=("reasoning",)), replace=True)
    assert get_dialect("tgi").reasoning_fields == ("reasoning",)


@pytest.mark.usefixtures("restore_registry")
def test_registering_the_same_definition_again_is_harmless() -> None:
    register_dialect(replace(get_dialect("vllm")))
    assert get_dialect("vllm").reasoning_echo_field == "reasoning"


def test_dialect_names_must_be_lower_case() -> None:
    with pytest.raises(ConfigError):
        register_dialect(Dialect(name="VLLM2", reasoning_fields=()))


@pytest.mark.parametrize(
    ("name", "reasoning_fields", "effort_style", "echo"),
    [
        ("vllm", ("reasoning", "reasoning_content"), "top_level", "reasoning"),
        ("sglang", ("reasoning_content",), "top_level", None),
        ("llamacpp", ("reasoning_content",), "chat_template_kwargs", "reasoning_content"),
        ("ollama", ("reasoning",), "top_level", "reasoning"),
        ("ollama_native", ("thinking",), "top_level", "thinking"),
        ("openai", ("reasoning_content", "reasoning"), "top_level", None),
    ],
)
def test_built_in_wire_facts(
    name: str, reasoning_fields: tuple[str, ...], effort_style: str, echo: str | None
) -> None:
    d = get_dialect(name)
    assert d.reasoning_fields == reasoning_fields
    assert d.effort_style == effort_style
    assert d.reasoning_echo_field == echo
    assert d.supports_stream_usage


@pytest.mark.parametrize("name", BUILT_IN)
def test_each_dialect_names_a_wire_protocol_that_exists(name: str) -> None:
    protocol = get_dialect(name).protocol
    assert protocol == ("ollama" if name == "ollama_native" else "openai")
    assert protocol in WIRES


def test_the_two_wire_protocols_differ_in_paths_and_framing() -> None:
    openai, ollama = WIRES["openai"], WIRES["ollama"]
    assert (openai.chat_path, openai.models_path) == ("/chat/completions", "/models")
    assert (ollama.chat_path, ollama.models_path) == ("/api/chat", "/api/tags")
    assert openai.base_url("http://gpu1:8000/v1/") == "http://gpu1:8000/v1"
    # Ollama's native API hangs off the root, also when the /v1 URL was pasted.
    for url in ("http://gpu2:11434", "http://gpu2:11434/", "http://gpu2:11434/v1/"):
        assert ollama.base_url(url) == "http://gpu2:11434"


# --- reading reasoning -------------------------------------------------------------------------


@pytest.mark.parametrize("name", BUILT_IN)
@pytest.mark.parametrize("field", ["reasoning", "reasoning_content", "thinking"])
def test_every_dialect_reads_every_reasoning_field(name: str, field: str) -> None:
    assert read_reasoning(get_dialect(name), {field: "hmm", "content": None}) == "hmm"


def test_the_preferred_field_wins_when_two_carry_text() -> None:
    delta = {"reasoning": "new", "reasoning_content": "old"}
    assert read_reasoning(get_dialect("vllm"), delta) == "new"
    assert read_reasoning(get_dialect("sglang"), delta) == "old"


def test_empty_or_non_text_fields_fall_through() -> None:
    vllm = get_dialect("vllm")
    assert read_reasoning(vllm, {"reasoning": "", "reasoning_content": "x"}) == "x"
    assert read_reasoning(vllm, {"reasoning": None, "thinking": "y"}) == "y"
    assert read_reasoning(vllm, {"reasoning": 3}) is None
    assert read_reasoning(vllm, {"content": "answer"}) is None


# --- request bodies ----------------------------------------------------------------------------


def request(**kwargs: object) -> UpstreamRequest:
    base: dict[str, object] = {
        "upstream_model": "openai/gpt-oss-120b",
        "messages": (ChatMessage("user", "こんにちは"),),
    }
    base.update(kwargs)
    return UpstreamRequest(**base)  # type: ignore[arg-type]


def test_minimal_streaming_body() -> None:
    body = build_request_body(get_dialect("vllm"), request(), stream=True)
    assert body == {
        "model": "openai/gpt-oss-120b",
        "messages": [{"role": "user", "content": "こんにちは"}],
        "stream": True,
        "stream_options": {"include_usage": True},
    }


def test_no_stream_options_without_streaming_or_support() -> None:
    assert "stream_options" not in build_request_body(get_dialect("vllm"), request(), False)
    quiet = Dialect(name="quiet", reasoning_fields=(), supports_stream_usage=False)
    assert "stream_options" not in build_request_body(quiet, request(), True)


def test_sampling_options_only_when_set() -> None:
    sampling = SamplingOptions(temperature=0.0, max_tokens=64, stop=("###",), seed=7)
    body = build_request_body(get_dialect("sglang"), request(sampling=sampling), True)
    assert body["temperature"] == 0.0
    assert body["max_tokens"] == 64
    assert body["stop"] == ["###"]
    assert body["seed"] == 7
    assert "top_p" not in body


@pytest.mark.parametrize("name", ["vllm", "sglang", "ollama", "openai"])
def test_effort_at_top_level(name: str) -> None:
    body = build_request_body(get_dialect(name), request(reasoning_effort="high"), True)
    assert body["reasoning_effort"] == "high"
    assert "chat_template_kwargs" not in body


def test_effort_through_chat_template_kwargs_for_llamacpp() -> None:
    body = build_request_body(get_dialect("llamacpp"), request(reasoning_effort="low"), True)
    assert body["chat_template_kwargs"] == {"reasoning_effort": "low"}
    assert "reasoning_effort" not in body


@pytest.mark.parametrize("name", BUILT_IN)
def test_no_effort_sent_when_unset(name: str) -> None:
    body = build_request_body(get_dialect(name), request(), True)
    assert "reasoning_effort" not in body
    assert "chat_template_kwargs" not in body


TOOL_LOOP = (
    ChatMessage("system", "Reasoning: high"),
    ChatMessage("user", "東京の天気は?"),
    ChatMessage(
        "assistant",
        "",
        reasoning="I should call the weather tool.",
        tool_calls=(ToolCall("call_1", "weather", '{"city":"Tokyo"}'),),
    ),
    ChatMessage("tool", '{"temp": 21}', tool_call_id="call_1", name="weather"),
)


@pytest.mark.parametrize(
    ("name", "echo"),
    [
        ("vllm", "reasoning"),
        ("ollama", "reasoning"),
        ("llamacpp", "reasoning_content"),
        ("sglang", None),
        ("openai", None),
    ],
)
def test_tool_loop_messages_and_reasoning_echo(name: str, echo: str | None) -> None:
    body = build_request_body(get_dialect(name), request(messages=TOOL_LOOP), True)
    system, user, assistant, tool = body["messages"]
    assert system == {"role": "system", "content": "Reasoning: high"}
    assert user == {"role": "user", "content": "東京の天気は?"}
    assert assistant["tool_calls"] == [
        {
            "id": "call_1",
            "type": "function",
            "function": {"name": "weather", "arguments": '{"city":"Tokyo"}'},
        }
    ]
    reasoning_keys = {"reasoning", "reasoning_content", "thinking"} & assistant.keys()
    if echo is None:
        assert reasoning_keys == set()
    else:
        assert reasoning_keys == {echo}
        assert assistant[echo] == "I should call the weather tool."
    assert tool == {
        "role": "tool",
        "content": '{"temp": 21}',
        "tool_call_id": "call_1",
        "name": "weather",
    }
    # Messages without reasoning never carry the field.
    assert {"reasoning", "reasoning_content"} & user.keys() == set()
    orjson.dumps(body)  # the body is what goes on the wire


def test_tools_and_tool_choice_per_dialect() -> None:
    from mamori.domain.chat import ChatMessage, ToolSpec, UpstreamRequest
    from mamori.gateway.dialects import build_request_body, get_dialect

    tool = ToolSpec(name="lookup", description="d", parameters={"type": "object"})
    request = UpstreamRequest(
        upstream_model="m",
        messages=(ChatMessage("user", "x"),),
        tools=(tool,),
        tool_choice="required",
    )
    vllm = build_request_body(get_dialect("vllm"), request, stream=True)
    assert vllm["tools"] == [
        {
            "type": "function",
            "function": {"name": "lookup", "description": "d", "parameters": {"type": "object"}},
        }
    ]
    assert vllm["tool_choice"] == "required"
    # Engines that serve nothing but "auto" get "auto", with the same tools.
    assert (
        build_request_body(get_dialect("llamacpp"), request, stream=True)["tool_choice"] == "auto"
    )
    assert build_request_body(get_dialect("ollama"), request, stream=True)["tool_choice"] == "auto"
    plain = UpstreamRequest(upstream_model="m", messages=(ChatMessage("user", "x"),))
    assert "tools" not in build_request_body(get_dialect("vllm"), plain, stream=True)
