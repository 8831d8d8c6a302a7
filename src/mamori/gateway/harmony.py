"""Repairs gpt-oss answers whose harmony markup leaked into ``content``.

Some engine builds fail to parse the model's harmony format and pass it through, e.g.
``<|channel|>analysis<|message|>thinking…<|end|><|start|>assistant<|channel|>final<|message|>
answer``. The user must see neither the markup nor the chain of thought inside the answer, so
the text is re-split by channel: ``analysis`` becomes reasoning, ``final`` (and ``commentary``
preambles) become content, and the markup itself is dropped. Markers may be split across
streamed chunks; a possible marker prefix at the end of a chunk is held back until the next.

The engine's reasoning field can carry the same markup (the final answer then arrives inside
the reasoning). Its repair is made with ``reasoning=True``: text outside any message stays
reasoning, and only an explicit ``final``/``commentary`` message becomes content.
"""

from __future__ import annotations

import uuid

from mamori.domain.chat import ContentDelta, ReasoningDelta, ToolCallDelta

_START, _CHANNEL, _MESSAGE = "<|start|>", "<|channel|>", "<|message|>"
_ENDS = ("<|end|>", "<|return|>", "<|call|>")
_MARKERS = (_START, _CHANNEL, _MESSAGE, "<|constrain|>", *_ENDS)
_OPEN = "<|"

HarmonyEvent = ContentDelta | ReasoningDelta | ToolCallDelta


class HarmonyRepair:
    """Feed each content delta of one stream; emits what the user may see, split by channel."""

    __slots__ = (
        "_active",
        "_arguments",
        "_calls",
        "_channel",
        "_header",
        "_pending",
        "_plain",
        "_recipient",
    )

    def __init__(self, *, reasoning: bool = False) -> None:
        # What text outside any harmony message is: the answer, or, for the reasoning field,
        # chain of thought (which must never drift into the answer).
        self._plain: type[ContentDelta | ReasoningDelta] = (
            ReasoningDelta if reasoning else ContentDelta
        )
        self._pending = ""  # text that may be the start of a marker
        self._active = False  # markup has been seen in this stream
        self._channel: str | None = None  # channel of the message being read
        self._header: str | None = None  # collecting a header (between start/channel and message)
        # A message addressed "to=functions.NAME" is a tool call, on whatever channel (models
        # sometimes put it on analysis); its body is the arguments, ended by <|call|>.
        self._recipient: str | None = None
        self._arguments: list[str] = []
        self._calls = 0

    def feed(self, text: str) -> list[HarmonyEvent]:
        if not self._active and not self._pending and _OPEN not in text and "<" not in text[-2:]:
            return [self._plain(text)]  # the common case: no markup at all
        return self._scan(self._pending + text)

    def flush(self) -> list[HarmonyEvent]:
        rest, self._pending = self._pending, ""
        if not rest or self._header is not None:
            return []
        return self._emit(rest)

    def _scan(self, text: str) -> list[HarmonyEvent]:
        out: list[HarmonyEvent] = []
        self._pending = ""
        position = 0
        while position < len(text):
            found = text.find(_OPEN, position)
            if found < 0:
                tail = _possible_marker_start(text, position)
                self._take(text[position:tail], out)
                self._pending = text[tail:]
                return out
            self._take(text[position:found], out)
            marker = next((m for m in _MARKERS if text.startswith(m, found)), None)
            if marker is None:
                if any(m.startswith(text[found:]) for m in _MARKERS):
                    self._pending = text[found:]  # a marker cut by the chunk boundary
                    return out
                self._take(_OPEN, out)  # "<|" that is not markup
                position = found + len(_OPEN)
                continue
            self._active = True
            self._on_marker(marker, out)
            position = found + len(marker)
        return out

    def _on_marker(self, marker: str, out: list[HarmonyEvent]) -> None:
        if marker in (_START, _CHANNEL):
            self._note_recipient()
            # A header follows: the role after <|start|>, the channel after <|channel|>.
            self._header = ""
        elif marker == _MESSAGE:
            self._note_recipient()
            # "analysis", "final", or "commentary to=functions.x <|constrain|>json".
            header = (self._header or "").split()
            self._channel = header[0] if header else self._channel
            self._header = None
        elif marker in _ENDS:
            if self._recipient is not None:
                out.append(self._tool_call())
            self._channel = None
            self._header = None

    def _note_recipient(self) -> None:
        for word in (self._header or "").split():
            if word.startswith("to=functions."):
                self._recipient = word.removeprefix("to=functions.")

    def _tool_call(self) -> ToolCallDelta:
        call = ToolCallDelta(
            index=self._calls,
            id=new_call_id(),
            name=self._recipient,
            arguments="".join(self._arguments),
        )
        self._calls += 1
        self._recipient = None
        self._arguments = []
        return call

    def _take(self, text: str, out: list[HarmonyEvent]) -> None:
        if not text:
            return
        if self._header is not None:
            self._header += text
            return
        out.extend(self._emit(text))

    def _emit(self, text: str) -> list[HarmonyEvent]:
        if self._recipient is not None:
            self._arguments.append(text)
            return []
        if self._channel == "analysis":
            return [ReasoningDelta(text)]
        if self._channel is None:
            return [self._plain(text)]
        return [ContentDelta(text)]


def new_call_id() -> str:
    """An id for a tool call the engine sent without one; the client needs it to answer."""
    return f"call_{uuid.uuid4().hex[:24]}"


def _possible_marker_start(text: str, position: int) -> int:
    """Where a trailing, possibly incomplete marker begins ("<" or "<|cha"), else len(text)."""
    start = text.rfind("<", max(position, len(text) - 16))
    if start >= 0 and any(m.startswith(text[start:]) for m in _MARKERS):
        return start
    return len(text)
