"""Engine dialects: how each engine differs on the wire, expressed as data.

A dialect is a frozen record, not a subclass. The built-in ones register through
``register_dialect`` exactly as a plugin would. ``protocol`` names the wire protocol the engine
speaks (OpenAI chat/completions, or Ollama's native /api/chat; see ``gateway.wire``); for the
OpenAI one, two pure functions apply a dialect: ``build_request_body`` (outgoing) and
``read_reasoning`` (incoming). See ``shared/notes/gpt-oss.md`` for where each engine's field
names come from.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from mamori.domain.chat import ChatMessage, SamplingOptions, ToolSpec, UpstreamRequest
from mamori.errors import ConfigError

EffortStyle = Literal["top_level", "chat_template_kwargs"]
WireProtocol = Literal["openai", "ollama"]

# Every engine names its chain of thought one of these. Reading always falls back to all of them:
# UIs that trusted a single name never showed reasoning from the other engines.
ALL_REASONING_FIELDS: tuple[str, ...] = ("reasoning", "reasoning_content", "thinking")


@dataclass(frozen=True, slots=True)
class Dialect:
    name: str
    # Where the engine puts reasoning in a stream delta, most likely first.
    reasoning_fields: tuple[str, ...]
    # "openai": chat/completions with SSE; "ollama": Ollama's native /api/chat with NDJSON.
    protocol: WireProtocol = "openai"
    # "top_level": ``reasoning_effort`` in the body; "chat_template_kwargs": inside
    # ``chat_template_kwargs`` (engines that only hand it to the Jinja template).
    effort_style: EffortStyle = "top_level"
    # The field that carries reasoning back on assistant messages during a tool loop; None when
    # the engine has no such field (the reasoning is then dropped from the request).
    reasoning_echo_field: str | None = None
    # Whether to ask for a final usage chunk with ``stream_options.include_usage``.
    supports_stream_usage: bool = True
    # Engines that reject (or silently ignore) any ``tool_choice`` but "auto".
    tool_choice_auto_only: bool = False
    # Derived: preferred fields, then the remaining fallbacks. Computed once, read per chunk.
    read_order: tuple[str, ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        order = self.reasoning_fields + tuple(
            f for f in ALL_REASONING_FIELDS if f not in self.reasoning_fields
        )
        object.__setattr__(self, "read_order", order)


DIALECTS: dict[str, Dialect] = {}


def register_dialect(dialect: Dialect, *, replace: bool = False) -> Dialect:
    """Make a dialect available by name. Re-registering a name needs ``replace=True``."""
    if dialect.name != dialect.name.strip().lower() or not dialect.name:
        raise ConfigError(f"dialect names are lower-case and non-empty: {dialect.name!r}")
    if not replace and DIALECTS.get(dialect.name, dialect) != dialect:
        raise ConfigError(f"dialect {dialect.name!r} is already registered")
    DIALECTS[dialect.name] = dialect
    return dialect


def get_dialect(name: str) -> Dialect:
    """The dialect called ``name`` (case-insensitive), or a ConfigError listing the valid ones."""
    dialect = DIALECTS.get(name.strip().lower())
    if dialect is None:
        valid = ", ".join(sorted(DIALECTS))
        raise ConfigError(f"unknown engine dialect {name!r}; valid dialects: {valid}")
    return dialect


# vLLM renamed ``reasoning_content`` to ``reasoning``; older servers still send the former.
VLLM = register_dialect(
    Dialect(
        name="vllm",
        reasoning_fields=("reasoning", "reasoning_content"),
        reasoning_echo_field="reasoning",
    )
)
SGLANG = register_dialect(Dialect(name="sglang", reasoning_fields=("reasoning_content",)))
# llama.cpp's server passes reasoning_effort to gpt-oss only through the chat template.
LLAMACPP = register_dialect(
    Dialect(
        name="llamacpp",
        reasoning_fields=("reasoning_content",),
        effort_style="chat_template_kwargs",
        reasoning_echo_field="reasoning_content",
        tool_choice_auto_only=True,
    )
)
# Ollama's OpenAI-compatible /v1 API, not its native /api/chat.
OLLAMA = register_dialect(
    Dialect(
        name="ollama",
        reasoning_fields=("reasoning",),
        reasoning_echo_field="reasoning",
        tool_choice_auto_only=True,
    )
)
# Ollama's native /api/chat. Effort goes as ``think: "low"|"medium"|"high"`` (gpt-oss ignores a
# boolean), and ``tool_choice`` does not exist there.
OLLAMA_NATIVE = register_dialect(
    Dialect(
        name="ollama_native",
        reasoning_fields=("thinking",),
        protocol="ollama",
        reasoning_echo_field="thinking",
        tool_choice_auto_only=True,
    )
)
# Any other OpenAI-compatible server: no reasoning echo, since unknown fields may be rejected.
OPENAI = register_dialect(
    Dialect(name="openai", reasoning_fields=("reasoning_content", "reasoning"))
)


# --- applying a dialect ------------------------------------------------------------------------


def build_request_body(dialect: Dialect, req: UpstreamRequest, stream: bool) -> dict[str, Any]:
    """The OpenAI chat/completions body for ``req`` as this engine wants it."""
    body: dict[str, Any] = {
        "model": req.upstream_model,
        "messages": [_message(dialect, m) for m in req.messages],
        "stream": stream,
    }
    if stream and dialect.supports_stream_usage:
        body["stream_options"] = {"include_usage": True}
    body.update(sampling_fields(req.sampling, max_tokens="max_tokens"))
    if req.tools:
        body["tools"] = tool_specs(req.tools)
        choice = req.tool_choice
        if choice is not None and (choice == "auto" or not dialect.tool_choice_auto_only):
            body["tool_choice"] = choice
        elif choice is not None:
            # The engine rejects anything but "auto"; "auto" with the same tools is the closest
            # request it can serve.
            body["tool_choice"] = "auto"
    if req.reasoning_effort is not None:
        if dialect.effort_style == "chat_template_kwargs":
            body["chat_template_kwargs"] = {"reasoning_effort": req.reasoning_effort}
        else:
            body["reasoning_effort"] = req.reasoning_effort
    return body


def sampling_fields(sampling: SamplingOptions, *, max_tokens: str) -> dict[str, Any]:
    """The sampling options that are set, under OpenAI's names but for the output limit, which
    each protocol names its own way."""
    fields: dict[str, Any] = {}
    if sampling.temperature is not None:
        fields["temperature"] = sampling.temperature
    if sampling.top_p is not None:
        fields["top_p"] = sampling.top_p
    if sampling.max_tokens is not None:
        fields[max_tokens] = sampling.max_tokens
    if sampling.stop:
        fields["stop"] = list(sampling.stop)
    if sampling.seed is not None:
        fields["seed"] = sampling.seed
    return fields


def tool_specs(tools: tuple[ToolSpec, ...]) -> list[dict[str, Any]]:
    """Function tools in OpenAI's shape, which Ollama's native API takes as well."""
    return [
        {
            "type": "function",
            "function": {
                "name": tool.name,
                "description": tool.description,
                "parameters": tool.parameters or {"type": "object", "properties": {}},
            },
        }
        for tool in tools
    ]


def _message(dialect: Dialect, message: ChatMessage) -> dict[str, Any]:
    out: dict[str, Any] = {"role": message.role, "content": message.content}
    if message.tool_calls:
        out["tool_calls"] = [
            {
                "id": call.id,
                "type": "function",
                "function": {"name": call.name, "arguments": call.arguments},
            }
            for call in message.tool_calls
        ]
    if message.tool_call_id is not None:
        out["tool_call_id"] = message.tool_call_id
    if message.name is not None:
        out["name"] = message.name
    if message.reasoning and dialect.reasoning_echo_field is not None:
        out[dialect.reasoning_echo_field] = message.reasoning
    return out


def read_reasoning(dialect: Dialect, delta: dict[str, Any]) -> str | None:
    """The reasoning text in one stream delta, from whichever field the engine used.

    Only the first non-empty field counts: some servers send the same text under two names.
    """
    for name in dialect.read_order:
        value = delta.get(name)
        if value and type(value) is str:
            return value
    return None
