"""SudachiPy, loaded once per process and used per thread (a tokenizer is not thread-safe)."""

from __future__ import annotations

import threading
from functools import cache, lru_cache
from typing import NamedTuple

from sudachipy import Dictionary, Morpheme, SplitMode

_local = threading.local()
_POS: dict[int, tuple[str, ...]] = {}


class Token(NamedTuple):
    surface: str
    start: int
    end: int
    pos: tuple[str, ...]
    morpheme: Morpheme  # kept for the rarely needed, per-call attributes

    @property
    def oov(self) -> bool:
        """Whether the dictionary lacks this word (the tokenizer made it up)."""
        return bool(self.morpheme.is_oov())

    @property
    def is_person_name(self) -> bool:
        """名詞,固有名詞,人名,(姓|名|一般): the dictionary's own word that this is a name."""
        return self.pos[1] == "固有名詞" and self.pos[2] == "人名"

    @property
    def is_space(self) -> bool:
        return self.pos[0] == "空白"


@cache
def _dictionary() -> Dictionary:
    # sudachidict-core ships the dictionary file inside the wheel: nothing is downloaded.
    return Dictionary(dict="core")


@lru_cache(maxsize=4096)
def can_be_name(surface: str) -> bool:
    """Whether the dictionary lists ``surface`` as a person's name in any of its readings.

    The tokenizer picks one reading per context: 「担当者は小川です」 comes out as the common
    noun 小川 (a brook), although the dictionary also knows 小川 as a surname.
    """
    return any(
        tuple(m.part_of_speech()[1:3]) == ("固有名詞", "人名")
        for m in _dictionary().lookup(surface)
    )


def tokenize(text: str) -> list[Token]:
    tokenizer = getattr(_local, "tokenizer", None)
    if tokenizer is None:
        # Long units (mode C) keep role words such as 申込者 whole; names still split into
        # surname and given name.
        tokenizer = _dictionary().tokenizer(SplitMode.C, fields={"pos"})
        _local.tokenizer = tokenizer
    tokens = []
    offset = 0
    for m in tokenizer.tokenize(text):
        pos_id = m.part_of_speech_id()
        pos = _POS.get(pos_id)
        if pos is None:
            # A few hundred distinct tags: build each tuple once, not once per token.
            pos = _POS[pos_id] = tuple(m.part_of_speech())
        surface = m.surface()
        # Surfaces are consecutive slices of the input, so offsets need no call per token.
        tokens.append(Token(surface, offset, offset + len(surface), pos, m))
        offset += len(surface)
    return tokens
