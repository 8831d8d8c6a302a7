"""Wire protocols: what differs between OpenAI's chat/completions and Ollama's native /api/chat.

A ``Wire`` is data plus a few pure functions, chosen by a dialect's ``protocol``. The HTTP side
(pooling, timeouts, retries, error mapping) is one backend for both, in ``openai_compat``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from mamori.domain.chat import StreamEvent, UpstreamRequest
from mamori.gateway import chunks, ollama_native
from mamori.gateway.dialects import Dialect, WireProtocol, build_request_body
from mamori.gateway.ndjson import NDJSONDecoder
from mamori.gateway.sse import SSEDecoder


class Decoder(Protocol):
    """Splits a streamed body into payloads, one JSON document each (or the [DONE] sentinel)."""

    def feed(self, chunk: bytes) -> list[bytes]: ...

    def flush(self) -> list[bytes]: ...


@dataclass(frozen=True, slots=True)
class Wire:
    chat_path: str
    models_path: str
    accept: str
    base_url: Callable[[str], str]  # the configured URL, normalised to the one paths hang off
    build_body: Callable[[Dialect, UpstreamRequest, bool], dict[str, Any]]
    decoder: Callable[[], Decoder]
    read: Callable[[Dialect, list[bytes], list[StreamEvent], chunks.StreamProgress], None]
    model_names: Callable[[Any], list[str]]


def _openai_models(listing: Any) -> list[str]:
    return [str(model["id"]) for model in listing["data"]]


def _ollama_root(url: str) -> str:
    # Operators copy the /v1 URL of Ollama's OpenAI-compatible API; the native API is at the root.
    return url.rstrip("/").removesuffix("/v1").rstrip("/")


WIRES: dict[WireProtocol, Wire] = {
    "openai": Wire(
        chat_path="/chat/completions",
        models_path="/models",
        accept="text/event-stream",
        base_url=lambda url: url.rstrip("/"),
        build_body=build_request_body,
        decoder=SSEDecoder,
        read=chunks.read_payloads,
        model_names=_openai_models,
    ),
    "ollama": Wire(
        chat_path="/api/chat",
        models_path="/api/tags",
        accept="application/x-ndjson",
        base_url=_ollama_root,
        build_body=ollama_native.build_ollama_body,
        decoder=NDJSONDecoder,
        read=ollama_native.read_lines,
        model_names=ollama_native.model_names,
    ),
}
