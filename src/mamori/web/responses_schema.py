"""The subset of OpenAI's Responses API request that mamori understands.

Like the chat-completions request, unknown fields are accepted and ignored (clients send many),
and malformed known fields are a 400 that names them. Known features mamori does not offer —
stored responses, built-in tools, non-text input — are parsed leniently into ``Other*`` models
so that ``unsupported()`` can refuse them by name instead of silently dropping them.

Ignored on purpose: ``include`` (mamori returns the raw reasoning as content, never encrypted),
``reasoning.summary`` (whether a person sees raw reasoning, a summary or neither is the reasoning
display policy's decision, not the client's), ``truncation``,
``parallel_tool_calls``, ``user`` and ``safety_identifier``.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag

from mamori.domain.chat import (
    ChatMessage,
    ReasoningEffort,
    SamplingOptions,
    ToolCall,
    ToolChoice,
    ToolSpec,
)


class _Other(BaseModel):
    model_config = ConfigDict(extra="allow")

    type: str = Field(min_length=1, max_length=64)


class TextPart(BaseModel):
    # "text" is what some clients send in chat style; all three carry plain text.
    type: Literal["input_text", "output_text", "text"]
    text: str


def _text_tag(value: Any) -> str:
    kind = value.get("type") if isinstance(value, dict) else getattr(value, "type", None)
    return "text" if kind in ("input_text", "output_text", "text") else "other"


ContentPart = Annotated[
    Annotated[TextPart, Tag("text")] | Annotated[_Other, Tag("other")], Discriminator(_text_tag)
]
Content = str | list[ContentPart]


def _text_of(content: Content) -> str:
    if isinstance(content, str):
        return content
    return "".join(p.text for p in content if isinstance(p, TextPart))


class MessageItem(BaseModel):
    model_config = ConfigDict(extra="ignore")

    type: Literal["message"] = "message"
    role: Literal["user", "system", "developer", "assistant"]
    content: Content


class FunctionCallItem(BaseModel):
    model_config = ConfigDict(extra="ignore")

    type: Literal["function_call"]
    call_id: str = Field(min_length=1)
    name: str = Field(min_length=1)
    arguments: str = ""


class FunctionCallOutputItem(BaseModel):
    model_config = ConfigDict(extra="ignore")

    type: Literal["function_call_output"]
    call_id: str = Field(min_length=1)
    output: Content


class ReasoningText(BaseModel):
    type: Literal["reasoning_text"] = "reasoning_text"
    text: str


class ReasoningItem(BaseModel):
    """Chain of thought a client sends back inside a tool loop (harmony wants it there)."""

    model_config = ConfigDict(extra="ignore")

    type: Literal["reasoning"]
    content: list[ReasoningText] | None = None


_ITEM_TYPES = ("message", "function_call", "function_call_output", "reasoning")


def _item_tag(value: Any) -> str:
    # A message may come without "type" (OpenAI's "easy input message").
    kind = value.get("type", "message") if isinstance(value, dict) else getattr(value, "type", None)
    return kind if kind in _ITEM_TYPES else "other"


InputItem = Annotated[
    Annotated[MessageItem, Tag("message")]
    | Annotated[FunctionCallItem, Tag("function_call")]
    | Annotated[FunctionCallOutputItem, Tag("function_call_output")]
    | Annotated[ReasoningItem, Tag("reasoning")]
    | Annotated[_Other, Tag("other")],
    Discriminator(_item_tag),
]


class FunctionTool(BaseModel):
    model_config = ConfigDict(extra="ignore")

    type: Literal["function"]
    name: str = Field(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.-]+$")
    description: str | None = None
    parameters: dict[str, Any] | None = None
    strict: bool | None = None


def _tool_tag(value: Any) -> str:
    kind = value.get("type") if isinstance(value, dict) else getattr(value, "type", None)
    return "function" if kind == "function" else "other"


Tool = Annotated[
    Annotated[FunctionTool, Tag("function")] | Annotated[_Other, Tag("other")],
    Discriminator(_tool_tag),
]


class ReasoningIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    effort: ReasoningEffort | None = None


class TextIn(BaseModel):
    model_config = ConfigDict(extra="ignore")

    format: dict[str, Any] | None = None


class ResponsesRequest(BaseModel):
    model_config = ConfigDict(extra="ignore")

    model: str = Field(min_length=1)
    input: Annotated[str, Field(min_length=1)] | Annotated[list[InputItem], Field(min_length=1)]
    instructions: str | None = None
    stream: bool = False
    reasoning: ReasoningIn | None = None
    max_output_tokens: int | None = Field(default=None, gt=0)
    temperature: float | None = Field(default=None, ge=0, le=2)
    top_p: float | None = Field(default=None, gt=0, le=1)
    tools: list[Tool] | None = Field(default=None, max_length=128)
    tool_choice: Literal["auto", "none", "required"] | dict[str, Any] | None = None
    text: TextIn | None = None
    metadata: dict[str, str] | None = None
    # Known features mamori refuses (see ``unsupported``).
    previous_response_id: str | None = None
    conversation: str | dict[str, Any] | None = None
    store: bool | None = None
    background: bool | None = None
    prompt: dict[str, Any] | None = None

    def unsupported(self) -> str | None:
        """Why mamori cannot serve this request as asked, or None when it can."""
        stateless = "mamori keeps no responses; send the whole conversation in input"
        if self.previous_response_id is not None:
            return f"previous_response_id is not supported: {stateless}"
        if self.conversation is not None:
            return f"conversation is not supported: {stateless}"
        if self.store:
            return "store: true is not supported: mamori keeps no responses to retrieve later"
        if self.background:
            return "background: true is not supported: answers are returned or streamed at once"
        if self.prompt is not None:
            return "prompt templates are not supported: send instructions and input instead"
        for i, tool in enumerate(self.tools or ()):
            if isinstance(tool, _Other):
                return f"tools[{i}]: tool type {tool.type!r} is not supported; only function tools"
        if isinstance(self.tool_choice, dict) and not _is_function_choice(self.tool_choice):
            return "tool_choice: only 'auto', 'none', 'required' or a function are supported"
        format_type = (self.text.format or {}).get("type", "text") if self.text else "text"
        if format_type != "text":
            return f"text.format {format_type!r} is not supported; only plain text output"
        return self._unsupported_input()

    def _unsupported_input(self) -> str | None:
        if isinstance(self.input, str):
            return None
        for i, item in enumerate(self.input):
            if isinstance(item, _Other):
                return f"input[{i}]: item type {item.type!r} is not supported"
            content = item.content if isinstance(item, MessageItem) else None
            if isinstance(item, FunctionCallOutputItem):
                content = item.output
            for j, part in enumerate(content if isinstance(content, list) else ()):
                if isinstance(part, _Other):
                    return (
                        f"input[{i}].content[{j}]: type {part.type!r} is not supported; only text"
                    )
        return None

    def messages(self) -> list[ChatMessage]:
        """The conversation in chat form: instructions first, then the input items in order."""
        result: list[ChatMessage] = []
        if self.instructions:
            # "system" rather than "developer": every engine's chat template knows it, and
            # gpt-oss engines put a system message's text into harmony's developer message.
            result.append(ChatMessage(role="system", content=self.instructions))
        if isinstance(self.input, str):
            result.append(ChatMessage(role="user", content=self.input))
            return result
        assistant = _AssistantTurn()
        for item in self.input:
            if isinstance(item, ReasoningItem):
                assistant.reasoning.extend(part.text for part in item.content or ())
            elif isinstance(item, FunctionCallItem):
                assistant.calls.append(ToolCall(item.call_id, item.name, item.arguments))
            elif isinstance(item, MessageItem) and item.role == "assistant":
                assistant.content.append(_text_of(item.content))
            else:
                assistant.flush_into(result)
                if isinstance(item, MessageItem):
                    result.append(ChatMessage(role=item.role, content=_text_of(item.content)))
                elif isinstance(item, FunctionCallOutputItem):
                    output = _text_of(item.output)
                    result.append(
                        ChatMessage(role="tool", content=output, tool_call_id=item.call_id)
                    )
        assistant.flush_into(result)
        return result

    def tool_specs(self) -> tuple[ToolSpec, ...]:
        return tuple(
            ToolSpec(name=t.name, description=t.description or "", parameters=t.parameters or {})
            for t in self.tools or ()
            if isinstance(t, FunctionTool)
        )

    def domain_tool_choice(self) -> ToolChoice | None:
        """In chat-completions shape, which is what the gateway hands to engines."""
        if isinstance(self.tool_choice, dict):
            return {"type": "function", "function": {"name": self.tool_choice["name"]}}
        return self.tool_choice

    def sampling(self) -> SamplingOptions:
        return SamplingOptions(
            temperature=self.temperature, top_p=self.top_p, max_tokens=self.max_output_tokens
        )

    def echo(self) -> dict[str, object]:
        """The request's settings as the response object repeats them."""
        return {
            "instructions": self.instructions,
            "max_output_tokens": self.max_output_tokens,
            "temperature": self.temperature,
            "top_p": self.top_p,
            "tools": [
                t.model_dump(exclude_none=True)
                for t in self.tools or ()
                if isinstance(t, FunctionTool)
            ],
            "tool_choice": self.tool_choice or "auto",
            "parallel_tool_calls": True,
            "reasoning": {
                "effort": self.reasoning.effort if self.reasoning else None,
                "summary": None,
            },
            "text": {"format": {"type": "text"}},
            "truncation": "disabled",
            "store": False,
            "previous_response_id": None,
            "metadata": self.metadata or {},
        }


def _is_function_choice(choice: dict[str, Any]) -> bool:
    return choice.get("type") == "function" and isinstance(choice.get("name"), str)


class _AssistantTurn:
    """Consecutive assistant-side items (reasoning, text, function calls) are one chat message."""

    def __init__(self) -> None:
        self.reasoning: list[str] = []
        self.content: list[str] = []
        self.calls: list[ToolCall] = []

    def flush_into(self, messages: list[ChatMessage]) -> None:
        if not (self.reasoning or self.content or self.calls):
            return
        messages.append(
            ChatMessage(
                role="assistant",
                content="".join(self.content),
                reasoning="".join(self.reasoning) or None,
                tool_calls=tuple(self.calls),
            )
        )
        self.reasoning, self.content, self.calls = [], [], []
