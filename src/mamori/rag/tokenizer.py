"""Japanese text → BM25 terms: one analysis for documents and queries alike.

The keyword index (``mamori.store.keyword``) stores and ranks whatever terms it is given; this
module decides what the terms are. The defaults of :class:`TokenizerConfig` were chosen by
measurement (``bench/keyword_choice.py``; the figures and the reasons are in
``docs/retrieval-tokenization.md``):

1. NFKC, then lower case: ＡＢＣ/abc, ｶﾀｶﾅ/カタカナ, ①/1 become the same characters before the
   dictionary sees them.
2. SudachiPy (sudachidict-core), split mode A (short units: 選挙 区, 立憲 民主 党).
3. Each morpheme's normalised form (附属 → 付属, 行っ → 行う, 二千二十一 → 2021), so
   spelling variants and inflections of one word meet.
4. Morphemes that carry no topic are dropped by part of speech: particles, auxiliaries,
   punctuation, whitespace.
5. A Japanese word the dictionary does not know (a foreign name, a new product or scheme) is also
   indexed as its character bigrams: the same unknown word is often segmented differently in
   a document and in a question, and the bigrams still meet.
6. Queries also lose interrogatives (何, いつ, どこ…): they state the question, not its
   subject, and being rare in declarative text they would get a high IDF.

Terms never contain whitespace, ASCII control characters or quotes: any such character splits
the term here, and nothing else does (``c++``, ``3.5``, ``r&d`` stay whole). That is also the
rule of FTS5's ascii tokenizer under :data:`FTS5_TOKENIZE`, so ``bench/keyword_choice.py`` can
rank these terms with an in-memory FTS5 table, which scores as the keyword index does.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from functools import cache
from typing import Any, Literal

from sudachipy import Dictionary, SplitMode

Mode = Literal["A", "B", "C"]
Form = Literal["surface", "normalized", "dictionary"]

# ASCII punctuation that stays inside a term. Left out: the quotes (they could not be written
# inside the option string) and, implicitly, whitespace and control characters. FTS5's
# "ascii" tokenizer treats every non-ASCII character as part of a token already.
_TOKENCHARS = "!#$%&()*+,-./:;<=>?@[\\]^_`{|}~"
FTS5_TOKENIZE = f"ascii tokenchars '{_TOKENCHARS}'"
# What FTS5_TOKENIZE would split a term on; the tokenizer splits there itself.
_SEPARATORS = re.compile(r"[\x00-\x20\x7f\"'\s]+")

# Particles, auxiliary verbs, punctuation and whitespace: grammar, not topic.
FUNCTION_POS: frozenset[str] = frozenset({"助詞", "助動詞", "補助記号", "空白"})
# Interrogatives, as the query side's stopwords (in normalised form, after NFKC + lower case).
QUESTION_WORDS: frozenset[str] = frozenset(
    {
        "何", "なに", "なん", "いつ", "どこ", "何処", "誰", "だれ", "どの", "どう", "どれ",
        "どちら", "どっち", "どなた", "どんな", "なぜ", "何故", "いくつ", "いくら",
        "どのよう", "どういう", "如何", "いかが",
    }
)  # fmt: skip

# Sudachi refuses input longer than about 49,149 UTF-8 bytes; stay well under it.
_MAX_BYTES = 40_000
_SENTENCE_END = re.compile(r"(?<=[。．！？!?\n])")
_MODES = {"A": SplitMode.A, "B": SplitMode.B, "C": SplitMode.C}


@dataclass(frozen=True, slots=True)
class TokenizerConfig:
    """How text becomes terms. The defaults are the measured choice; the other values exist
    so that the study can compare them through this very code."""

    mode: Mode = "A"
    form: Form = "normalized"
    # NFKC + lower case, on the input and on each term.
    normalize: bool = True
    # Top-level Sudachi parts of speech (pos[0]) whose morphemes are dropped.
    drop_pos: frozenset[str] = FUNCTION_POS
    # Dropped from queries only (compared with the term after analysis).
    query_stopwords: frozenset[str] = QUESTION_WORDS
    # Also emit character bigrams of out-of-vocabulary non-ASCII words of three or more
    # characters.
    oov_bigrams: bool = True


@cache
def sudachi_dictionary() -> Dictionary:
    """The process-wide Sudachi dictionary (sudachidict-core, shipped inside the wheel).

    A Dictionary is safe to share across threads; the tokenizers made from it are not."""
    return Dictionary(dict="core")


class JapaneseTokenizer:
    """Thread-safe: each thread gets its own Sudachi tokenizer from the shared dictionary
    (a lock around one tokenizer would serialise callers for no saving worth having)."""

    def __init__(self, config: TokenizerConfig = TokenizerConfig()) -> None:
        self.config = config
        self._local = threading.local()
        self._fields = {"pos", "surface"} | {
            {"surface": "surface", "normalized": "normalized_form"}.get(
                config.form, "dictionary_form"
            )
        }
        # Whether to drop a part-of-speech id; a few hundred ids, each looked up once.
        self._drop: dict[int, bool] = {}
        self._drop_lock = threading.Lock()

    def index_terms(self, text: str) -> list[str]:
        """Terms of a document field, in text order, duplicates kept (BM25 counts them)."""
        return list(self._terms(text))

    def query_terms(self, text: str) -> list[str]:
        """Terms of a query: the same analysis, stopwords removed, each term once, in order."""
        stop = self.config.query_stopwords
        return list(dict.fromkeys(t for t in self._terms(text) if t not in stop))

    def _terms(self, text: str) -> Iterator[str]:
        if not text or text.isspace():
            return
        config = self.config
        if config.normalize:
            text = unicodedata.normalize("NFKC", text).lower()
        tokenizer = self._tokenizer()
        drop = self._drop
        form = config.form
        for piece in _pieces(text):
            for m in tokenizer.tokenize(piece):
                pos_id = m.part_of_speech_id()
                dropped = drop.get(pos_id)
                if dropped is None:
                    dropped = self._learn_pos(pos_id, m.part_of_speech()[0])
                if dropped:
                    continue
                if form == "normalized":
                    term = m.normalized_form()
                elif form == "dictionary":
                    term = m.dictionary_form()
                else:
                    term = m.surface()
                if config.normalize:
                    # Dictionary forms keep their own case (Python, ABC).
                    term = term.lower()
                for part in _fts5_safe(term):
                    yield part
                    # Words in Latin letters and digits are delimited by spaces already;
                    # only unknown Japanese words have a segmentation that varies.
                    if config.oov_bigrams and len(part) >= 3 and not part.isascii() and m.is_oov():
                        yield from (part[i : i + 2] for i in range(len(part) - 1))

    def _learn_pos(self, pos_id: int, top: str) -> bool:
        with self._drop_lock:
            dropped = self._drop[pos_id] = top in self.config.drop_pos
        return dropped

    def _tokenizer(self) -> Any:  # sudachipy's tokenizer type is not exported usefully
        tokenizer = getattr(self._local, "tokenizer", None)
        if tokenizer is None:
            tokenizer = sudachi_dictionary().tokenizer(
                _MODES[self.config.mode], fields=self._fields
            )
            self._local.tokenizer = tokenizer
        return tokenizer


def _fts5_safe(term: str) -> list[str]:
    # Nearly every term is clean; splitting only when needed keeps this off the profile.
    if _SEPARATORS.search(term) is None:
        return [term] if term else []
    return [p for p in _SEPARATORS.split(term) if p]


def _pieces(text: str) -> Iterator[str]:
    """``text`` cut at line, then sentence ends, into parts Sudachi accepts."""
    # A character is at most 4 UTF-8 bytes: most texts need no counting at all.
    if len(text) * 4 <= _MAX_BYTES or len(text.encode()) <= _MAX_BYTES:
        yield text
        return
    buffer: list[str] = []
    size = 0
    for sentence in _sentences(text):
        n = len(sentence.encode())
        if buffer and size + n > _MAX_BYTES:
            yield "".join(buffer)
            buffer, size = [], 0
        buffer.append(sentence)
        size += n
    if buffer:
        yield "".join(buffer)


def _sentences(text: str) -> Iterator[str]:
    for sentence in _SENTENCE_END.split(text):
        if len(sentence.encode()) <= _MAX_BYTES:
            yield sentence
            continue
        # One "sentence" longer than the limit (a table dump, a minified file): cut by size,
        # preferring a space so that a word is rarely cut in two.
        while sentence:
            cut = _MAX_BYTES // 4
            if len(sentence) > cut:
                space = sentence.rfind(" ", cut // 2, cut)
                cut = space + 1 if space > 0 else cut
            yield sentence[:cut]
            sentence = sentence[cut:]


_default: JapaneseTokenizer | None = None
_default_lock = threading.Lock()


def default_tokenizer() -> JapaneseTokenizer:
    """The process-wide tokenizer with the chosen configuration (indexing and search share it,
    so documents and queries are always analysed alike)."""
    global _default
    if _default is None:
        with _default_lock:
            if _default is None:
                _default = JapaneseTokenizer()
    return _default
