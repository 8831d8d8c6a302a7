"""Incremental newline-delimited JSON framing, on bytes: Ollama's native streaming format.

Each line is one JSON object; the objects themselves are parsed by the caller, as SSE payloads
are. ``\\r\\n`` line ends and blank lines are tolerated.
"""

from __future__ import annotations


class NDJSONDecoder:
    """Feed raw bytes as they arrive; get back each completed, non-blank line."""

    __slots__ = ("_buffer",)

    def __init__(self) -> None:
        self._buffer = b""  # an unterminated line, waiting for the rest of it

    def feed(self, chunk: bytes) -> list[bytes]:
        if self._buffer:
            chunk = self._buffer + chunk
        lines = chunk.split(b"\n")
        self._buffer = lines.pop()
        return [line for line in lines if line.strip()]

    def flush(self) -> list[bytes]:
        """At end of body: the last line, even without its newline (a non-streamed reply has
        none). A line cut off by a broken connection then fails as malformed JSON."""
        rest, self._buffer = self._buffer, b""
        return [rest] if rest.strip() else []
