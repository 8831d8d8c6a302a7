"""Chat messages, requests to engines, and the normalised events an engine stream becomes."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Literal

Role = Literal["system", "developer", "user", "assistant", "tool"]
ReasoningEffort = Literal["low", "medium", "high"]
REASONING_EFFORTS: tuple[ReasoningEffort, ...] = ("low", "medium", "high")


@dataclass(frozen=True, slots=True)
class ToolCall:
    id: str
    name: str
    arguments: str


@dataclass(frozen=True, slots=True)
class ChatMessage:
    role: Role
    content: str
    # Raw chain of thought. Sent back to an engine only inside an unfinished tool loop.
    reasoning: str | None = None
    tool_calls: tuple[ToolCall, ...] = ()
    tool_call_id: str | None = None
    name: str | None = None


@dataclass(frozen=True, slots=True)
class ToolSpec:
    """A function the model may call, in OpenAI's shape (``parameters`` is a JSON Schema)."""

    name: str
    description: str = ""
    parameters: dict[str, object] = field(default_factory=dict)


# "auto", "none", "required", or {"type": "function", "function": {"name": ...}}.
ToolChoice = str | dict[str, object]


@dataclass(frozen=True, slots=True)
class SamplingOptions:
    temperature: float | None = None
    top_p: float | None = None
    max_tokens: int | None = None
    stop: tuple[str, ...] = ()
    seed: int | None = None


@dataclass(frozen=True, slots=True)
class UpstreamRequest:
    """What the gateway sends to one engine: already routed, already guarded."""

    upstream_model: str
    messages: tuple[ChatMessage, ...]
    sampling: SamplingOptions = field(default_factory=SamplingOptions)
    reasoning_effort: ReasoningEffort | None = None
    tools: tuple[ToolSpec, ...] = ()
    tool_choice: ToolChoice | None = None
    # The model's configured context window. Engines that load a model with a small default
    # context (Ollama) are told it, or they silently cut tool definitions off the prompt.
    context_length: int | None = None


class FinishReason(StrEnum):
    STOP = "stop"
    LENGTH = "length"
    TOOL_CALLS = "tool_calls"
    CONTENT_FILTER = "content_filter"


# --- Stream events -----------------------------------------------------------------------------
# Every engine dialect is reduced to these. They are deliberately tiny slotted classes: a stream
# of 10,000 events per second passes through each stage, so no validation happens here.


@dataclass(frozen=True, slots=True)
class ContentDelta:
    text: str


@dataclass(frozen=True, slots=True)
class ReasoningDelta:
    text: str


@dataclass(frozen=True, slots=True)
class ReasoningProgress:
    """Stands in for reasoning text the person may not see: that the model is thinking (or has
    finished), for how long and about how many tokens."""

    elapsed_ms: int
    tokens: int
    done: bool


@dataclass(frozen=True, slots=True)
class ReasoningSummary:
    """A short summary of the reasoning, written by the configured summariser model."""

    text: str


@dataclass(frozen=True, slots=True)
class ToolCallDelta:
    index: int
    id: str | None = None
    name: str | None = None
    arguments: str = ""


@dataclass(frozen=True, slots=True)
class Usage:
    prompt_tokens: int
    completion_tokens: int
    # Part of completion_tokens; None when the engine does not say (most do not yet).
    reasoning_tokens: int | None = None

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens


@dataclass(frozen=True, slots=True)
class Done:
    finish_reason: FinishReason = FinishReason.STOP


@dataclass(frozen=True, slots=True)
class ErrorEvent:
    """A turn ended in an error. ``code`` is stable and machine-readable; UIs localise it."""

    code: str
    message: str
    # True when nothing had been streamed to the client before the failure.
    before_first_byte: bool
    # Seconds after which the same request may succeed (a quota that resets), when known.
    retry_after: int | None = None


StreamEvent = (
    ContentDelta
    | ReasoningDelta
    | ReasoningProgress
    | ReasoningSummary
    | ToolCallDelta
    | Usage
    | Done
    | ErrorEvent
)
