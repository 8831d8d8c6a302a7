"""The seam between the pipeline and inference engines."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from typing import Protocol

from mamori.domain.chat import StreamEvent, UpstreamRequest
from mamori.domain.endpoint import Endpoint


class ChatBackend(Protocol):
    """One inference endpoint, seen as a source of normalised stream events."""

    endpoint: Endpoint

    def stream(self, request: UpstreamRequest) -> AsyncGenerator[StreamEvent, None]:
        """Run one completion, yielding ContentDelta, ReasoningDelta, ToolCallDelta and at most
        one Usage, then exactly one Done as the last event.

        Failures are raised as ``mamori.errors.UpstreamError`` subclasses, never yielded as
        ErrorEvent: whether to fail over or report is the caller's decision, and it depends on
        whether anything has been sent on yet. Closing the iterator early (``aclose()``, or
        cancelling the consuming task) abandons the upstream request.
        """
        ...

    async def list_models(self) -> list[str]:
        """The model names the engine reports (``GET {base_url}/models``, or Ollama's
        ``GET /api/tags``)."""
        ...

    async def aclose(self) -> None:
        """Release what this backend owns (not a shared HTTP client it was given)."""
        ...
