""" "Does this endpoint answer?": a short streamed reply from one of its models, timed. The
admin console's connection test and `mamori endpoints test` both use it."""

from __future__ import annotations

import time
from dataclasses import dataclass

from mamori.domain.chat import (
    ChatMessage,
    ContentDelta,
    ReasoningDelta,
    SamplingOptions,
    UpstreamRequest,
)
from mamori.domain.endpoint import Endpoint
from mamori.errors import MamoriError
from mamori.gateway.backend import ChatBackend

PROMPT = "Reply with the single word: OK"


@dataclass(frozen=True, slots=True)
class ChatCheck:
    ok: bool
    model: str
    first_token_ms: float | None
    total_ms: float
    text: str
    # An error code and its message; the message never carries the endpoint's key.
    error_code: str | None = None
    error: str | None = None


async def chat_check(backend: ChatBackend, endpoint: Endpoint, max_tokens: int = 16) -> ChatCheck:
    upstream = next(iter(endpoint.models.values()), "")
    request = UpstreamRequest(
        upstream_model=upstream,
        messages=(ChatMessage(role="user", content=PROMPT),),
        sampling=SamplingOptions(max_tokens=max_tokens),
    )
    started = time.perf_counter()
    first: float | None = None
    text: list[str] = []
    try:
        async for event in backend.stream(request):
            if isinstance(event, ContentDelta | ReasoningDelta) and first is None:
                first = time.perf_counter()
            if isinstance(event, ContentDelta):
                text.append(event.text)
    except MamoriError as exc:
        total = (time.perf_counter() - started) * 1000
        return ChatCheck(False, upstream, None, total, "", exc.code, exc.message)
    total = (time.perf_counter() - started) * 1000
    ttft = (first - started) * 1000 if first is not None else None
    return ChatCheck(True, upstream, ttft, total, "".join(text))
