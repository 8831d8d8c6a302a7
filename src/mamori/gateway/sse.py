"""Incremental Server-Sent-Events decoding, on bytes, for the streaming hot path.

Only ``data`` matters to an OpenAI-compatible stream, so ``event``, ``id`` and ``retry`` fields
and comments are dropped. The common case (one ``data: ...`` line per event, ``\\n`` line ends)
costs one ``split`` per network read and one slice per event; everything else goes through a
line-by-line parser that follows the WHATWG rules.
"""

from __future__ import annotations

DONE = b"[DONE]"

_DATA_PREFIX = b"data: "
_DATA_PREFIX_LEN = len(_DATA_PREFIX)


def is_done(payload: bytes) -> bool:
    """Whether an event payload is the OpenAI end-of-stream sentinel."""
    return payload == DONE or (len(payload) < 16 and payload.strip() == DONE)


class SSEDecoder:
    """Feed raw bytes as they arrive; get back the ``data`` payload of each completed event."""

    __slots__ = ("_buffer", "_pending_cr")

    def __init__(self) -> None:
        # Undispatched bytes with line ends already normalised to b"\n".
        self._buffer = b""
        # The previous chunk ended in b"\r": it may be half of a b"\r\n" split across reads.
        self._pending_cr = False

    def feed(self, chunk: bytes) -> list[bytes]:
        if self._pending_cr:
            chunk = b"\r" + chunk
            self._pending_cr = False
        if b"\r" in chunk:
            if chunk.endswith(b"\r"):
                self._pending_cr = True
                chunk = chunk[:-1]
            chunk = chunk.replace(b"\r\n", b"\n").replace(b"\r", b"\n")
        if self._buffer:
            chunk = self._buffer + chunk
        blocks = chunk.split(b"\n\n")
        self._buffer = blocks.pop()
        payloads: list[bytes] = []
        for block in blocks:
            if block.startswith(_DATA_PREFIX) and b"\n" not in block:
                payloads.append(block[_DATA_PREFIX_LEN:])
            elif block:
                _parse_block(block, payloads)
        return payloads

    def flush(self) -> list[bytes]:
        """At end of stream: dispatch complete lines the server never terminated with a blank line.

        The SSE spec drops such an event; engines that close right after ``data: [DONE]\\n``
        exist, and the payload is only accepted when its line is complete.
        """
        self._pending_cr = False
        data, self._buffer = self._buffer, b""
        complete, _, _partial = data.rpartition(b"\n")
        payloads: list[bytes] = []
        if complete:
            _parse_block(complete, payloads)
        return payloads


def _parse_block(block: bytes, payloads: list[bytes]) -> None:
    """The general path: one or more events' worth of lines, with any SSE field syntax."""
    data_lines: list[bytes] = []
    for line in block.split(b"\n"):
        if not line:
            if data_lines:
                payloads.append(b"\n".join(data_lines))
                data_lines = []
            continue
        if line[0] == 0x3A:  # b":" starts a comment
            continue
        name, colon, value = line.partition(b":")
        if name != b"data":
            continue
        if colon and value.startswith(b" "):
            value = value[1:]
        data_lines.append(value)
    if data_lines:
        payloads.append(b"\n".join(data_lines))
