"""The Japanese analysis behind keyword search: documents and questions meet on the same
terms, and every term survives FTS5's tokenizer whole."""

from __future__ import annotations

import re
import threading

from mamori.rag.tokenizer import (
    JapaneseTokenizer,
    TokenizerConfig,
    default_tokenizer,
)


def test_width_case_spelling_and_inflection_variants_meet() -> None:
    tokenizer = default_tokenizer()
    document = tokenizer.index_terms("ＡＢＣ課の附属施設で受け付けた。")
    question = tokenizer.query_terms("abc課の付属施設で受け付けますか")
    assert "abc" in document and "付属" in document
    assert set(question) <= set(document), set(question) - set(document)


def test_particles_and_punctuation_are_dropped() -> None:
    terms = default_tokenizer().index_terms("住民票の写しを、窓口で交付する。")
    assert "の" not in terms and "を" not in terms and "、" not in terms and "。" not in terms
    assert {"住民", "窓口", "交付"} <= set(terms)


def test_interrogatives_leave_queries_only() -> None:
    tokenizer = default_tokenizer()
    assert "いつ" not in tokenizer.query_terms("住民票はいつ受け取れますか")
    assert "いつ" in tokenizer.index_terms("いつでも受け取れます。いつ")


def test_query_terms_are_unique_and_in_order() -> None:
    terms = default_tokenizer().query_terms("窓口 窓口 手続 窓口")
    assert terms == list(dict.fromkeys(terms)) and terms[0] == "窓口"


def test_an_unknown_japanese_word_also_gives_its_bigrams_a_latin_one_does_not() -> None:
    tokenizer = default_tokenizer()
    terms = tokenizer.index_terms("インベブザンティラ社が買収")
    assert "インベブザンティラ" in terms and "ザン" in terms
    latin = tokenizer.index_terms("quoted wording")
    assert "quoted" in latin and "qu" not in latin
    plain = JapaneseTokenizer(TokenizerConfig(oov_bigrams=False))
    assert "ザン" not in plain.index_terms("インベブザンティラ社が買収")


def test_terms_never_hold_what_fts5_would_split_on() -> None:
    hostile = "C++ と \"quoted\" 'single' tab\there\x00nul 3.5％ r&d\u3000全角空白"
    terms = default_tokenizer().index_terms(hostile)
    assert terms
    assert all(re.search(r"[\x00-\x20\x7f\"'\s]", t) is None for t in terms), terms
    assert "3.5" in terms and "r&d" in terms


def test_text_beyond_sudachis_input_limit_is_analysed_whole() -> None:
    # Sudachi refuses one input over about 49 KB; the tokenizer cuts at sentence ends.
    sentence = "市民課は住民票の写しを交付する。"
    text = sentence * 6000 + "最後の文に固有語ハナミズキ通りがある。"
    terms = default_tokenizer().index_terms(text)
    assert terms.count("交付") == 6000
    assert "ハナミズキ" in terms


def test_threads_share_one_tokenizer_safely() -> None:
    tokenizer = JapaneseTokenizer()
    text = "令和6年度の予算案について、総務課が説明した。" * 50
    expected = tokenizer.index_terms(text)
    results: list[list[str]] = []

    def work() -> None:
        for _ in range(20):
            results.append(tokenizer.index_terms(text))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(results) == 80 and all(r == expected for r in results)
