"""The gpt-oss conformance matrix: engine dialects × behaviours, as two tables.

A dialect entry says how an engine is configured in mamori and which delta field its fake puts
reasoning in. Adding an engine (e.g. Ollama's native ``/api/chat``) is one ``DialectCase``; its
fake must then serve ``Script`` in that engine's wire shape under ``base_path``.

A behaviour entry is a ``Script`` (written with ``reasoning_field="reasoning"`` wherever it
sends reasoning; the dialect's field replaces it) and what a client must see: the exact answer,
the exact reasoning, the tool calls, or an error code and whether it came before the first byte.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any

from tests.support.fake_script import Script, ToolCallScript


@dataclass(frozen=True, slots=True)
class DialectCase:
    id: str
    dialect: str
    reasoning_field: str | tuple[str, ...]
    base_path: str = "/v1"  # what the endpoint URL ends with, after the fake's host and port
    # Ollama's native API sends tool calls without ids; mamori then makes them up.
    sends_call_ids: bool = True

    @property
    def model(self) -> str:
        return f"conf-{self.id}"


DIALECTS: tuple[DialectCase, ...] = (
    DialectCase("vllm", "vllm", "reasoning"),
    DialectCase("vllm-old", "vllm", "reasoning_content"),  # before vLLM's rename
    DialectCase("sglang", "sglang", "reasoning_content"),
    DialectCase("llamacpp", "llamacpp", "reasoning_content"),
    DialectCase("ollama-v1", "ollama", "reasoning"),
    DialectCase("openai", "openai", "reasoning_content"),
    DialectCase("ollama-native", "ollama_native", "thinking", base_path="", sends_call_ids=False),
)


@dataclass(frozen=True, slots=True)
class ExpectedCall:
    name: str
    arguments: dict[str, Any]
    id: str | None = None  # None: mamori made one up (a call found in leaked markup)


@dataclass(frozen=True, slots=True)
class Case:
    id: str
    script: Script
    answer: str = ""
    reasoning: str = ""
    calls: tuple[ExpectedCall, ...] = ()
    error: str | None = None
    # For errors: whether nothing had been streamed to the client yet.
    before_first_byte: bool = True
    # The /v1 request is the second step of a tool loop (it ends with a tool result).
    after_tool_result: bool = False

    def script_for(self, dialect: DialectCase) -> Script:
        if self.script.reasoning_field is None:
            return self.script
        return dataclasses.replace(self.script, reasoning_field=dialect.reasoning_field)

    @property
    def engine_sent_usage(self) -> bool:
        return self.error is None and self.script.include_usage


def _pieces(text: str, size: int) -> tuple[str, ...]:
    return tuple(text[i : i + size] for i in range(0, len(text), size))


ANALYSIS = "User asks the capital. Answer Tokyo."
FINAL = "日本の首都は東京です。"
LEAKED = (
    f"<|channel|>analysis<|message|>{ANALYSIS}<|end|>"
    f"<|start|>assistant<|channel|>final<|message|>{FINAL}<|return|>"
)
LEAKED_CALL = (
    "<|channel|>analysis to=functions.get_weather <|constrain|>json"
    '<|message|>{"city": "東京"}<|call|>'
)
# The reasoning parser missed the final channel: the answer sits inside the reasoning field.
FINAL_IN_REASONING = (
    f"{ANALYSIS}<|end|><|start|>assistant<|channel|>final<|message|>{FINAL}<|return|>"
)
WEATHER = ExpectedCall("get_weather", {"city": "東京"}, id="call_1")
TIME = ExpectedCall("get_time", {"tz": "Asia/Tokyo"}, id="call_2")
SPLIT_CALLS = (
    ToolCallScript("call_1", "get_weather", ('{"ci', 'ty": "東', '京"}')),
    ToolCallScript("call_2", "get_time", ("{", '"tz": "Asia/Tokyo"', "}")),
)

CASES: tuple[Case, ...] = (
    Case(
        "reasoning-then-answer",
        Script(reasoning=("考え", "中"), content=("東京", "です")),
        answer="東京です",
        reasoning="考え中",
    ),
    Case(
        "answer-without-usage",
        Script(reasoning_field=None, content=("はい",), include_usage=False),
        answer="はい",
    ),
    Case(
        "usage-in-finish-chunk",
        Script(reasoning=("r",), content=("ok",), usage_with_finish=True),
        answer="ok",
        reasoning="r",
    ),
    Case(
        "tool-calls-split-across-chunks",
        Script(reasoning=("need", " tools"), content=(), tool_calls=SPLIT_CALLS),
        reasoning="need tools",
        calls=(WEATHER, TIME),
    ),
    Case(
        "harmony-markup-in-content",
        Script(reasoning_field=None, content=_pieces(LEAKED, 3)),
        answer=FINAL,
        reasoning=ANALYSIS,
    ),
    Case(
        "final-answer-in-reasoning-markup",
        Script(reasoning=_pieces(FINAL_IN_REASONING, 4), content=()),
        answer=FINAL,
        reasoning=ANALYSIS,
    ),
    Case(
        "tool-call-on-analysis-channel",
        Script(reasoning_field=None, content=_pieces(LEAKED_CALL, 5)),
        calls=(ExpectedCall("get_weather", {"city": "東京"}),),
    ),
    Case(
        "reasoning-only",
        Script(reasoning=("答えは東京", "です"), content=()),
        reasoning="答えは東京です",
        error="engine_no_answer",
        before_first_byte=False,
    ),
    Case(
        "both-fields-empty",
        Script(reasoning_field=None, content=()),
        error="engine_no_answer",
    ),
    Case("harmony-error-503", Script(status=503), error="engine_http_error"),
    Case(
        "malformed-tool-arguments",
        Script(
            reasoning_field=None,
            content=(),
            tool_calls=(ToolCallScript("call_1", "get_weather", ('{"city": "東', "京")),),
        ),
        error="engine_stream_broken",
    ),
    Case(
        "disconnect-mid-stream",
        # No role chunk: the cut falls after the same three tokens on every wire protocol.
        Script(reasoning_field=None, content=10, disconnect_after=3, role_chunk=False),
        answer=" t0 t1 t2",  # the part that got through before the engine hung up
        error="engine_stream_broken",
        before_first_byte=False,
    ),
    Case(
        "stall-after-tool-result",
        Script(stall_after=0),
        error="engine_timeout",
        after_tool_result=True,
    ),
)

# The second step of a tool loop: the request ends with the tool's result.
TOOL_LOOP = [
    {"role": "user", "content": "東京の天気は？"},
    {
        "role": "assistant",
        "content": "",
        "tool_calls": [
            {
                "id": "call_0",
                "type": "function",
                "function": {"name": "get_weather", "arguments": '{"city": "東京"}'},
            }
        ],
    },
    {"role": "tool", "tool_call_id": "call_0", "content": '{"weather": "晴れ"}'},
]
