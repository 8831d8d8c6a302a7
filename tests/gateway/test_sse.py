"""The SSE decoder: whatever the chunking and line ends, the same payloads come out."""

from __future__ import annotations

import random

import pytest

from mamori.gateway.sse import DONE, SSEDecoder, is_done


def decode_all(chunks: list[bytes]) -> list[bytes]:
    decoder = SSEDecoder()
    out: list[bytes] = []
    for chunk in chunks:
        out.extend(decoder.feed(chunk))
    return out


def test_one_event_per_data_line() -> None:
    assert decode_all([b'data: {"a":1}\n\n']) == [b'{"a":1}']


def test_several_events_in_one_read() -> None:
    assert decode_all([b"data: 1\n\ndata: 2\n\ndata: 3\n\n"]) == [b"1", b"2", b"3"]


def test_an_incomplete_event_waits_for_its_blank_line() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: 1\n") == []
    assert decoder.feed(b"\ndata: 2") == [b"1"]
    assert decoder.feed(b"\n\n") == [b"2"]


def test_multi_line_data_is_joined_with_newlines() -> None:
    assert decode_all([b"data: first\ndata: second\ndata:third\n\n"]) == [b"first\nsecond\nthird"]


def test_comments_event_id_and_retry_lines_are_ignored() -> None:
    stream = b": keep-alive\n\nevent: message\nid: 7\nretry: 100\ndata: x\n\n: ping\n\n"
    assert decode_all([stream]) == [b"x"]


def test_data_without_a_space_or_value() -> None:
    # Only one leading space is stripped; a bare "data" field is an empty payload.
    assert decode_all([b"data:x\n\ndata:  two\n\ndata\n\n"]) == [b"x", b" two", b""]


def test_crlf_line_ends() -> None:
    assert decode_all([b"data: a\r\n\r\ndata: b\r\ndata: c\r\n\r\n"]) == [b"a", b"b\nc"]


def test_crlf_split_between_cr_and_lf() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: a\r") == []
    assert decoder.feed(b"\n\r") == []
    assert decoder.feed(b"\ndata: b\r\n\r\n") == [b"a", b"b"]


def test_bare_cr_line_ends() -> None:
    assert decode_all([b"data: a\r\rdata: b\r\r", b"\n"]) == [b"a", b"b"]


def test_blank_lines_beyond_the_separator_do_not_make_events() -> None:
    assert decode_all([b"\n\n\ndata: a\n\n\n\n\ndata: b\n\n"]) == [b"a", b"b"]


REALISTIC = b"".join(
    [b": hello\r\n\r\n"]
    + [b'data: {"choices":[{"delta":{"content":"%d \xe3\x81\x82"}}]}\n\n' % i for i in range(40)]
    + [b"event: ping\r\ndata: multi\r\ndata: line\r\n\r\n", b"data: bare\rdata: cr\r\r"]
    + [b"data: [DONE]\n\n"]
)


def test_feeding_byte_by_byte_matches_feeding_whole() -> None:
    whole = decode_all([REALISTIC])
    assert len(whole) == 43
    assert whole[-3:] == [b"multi\nline", b"bare\ncr", DONE]
    assert decode_all([REALISTIC[i : i + 1] for i in range(len(REALISTIC))]) == whole


@pytest.mark.parametrize("seed", range(5))
def test_random_chunk_boundaries_match_feeding_whole(seed: int) -> None:
    rng = random.Random(seed)
    cuts = sorted(rng.sample(range(1, len(REALISTIC)), 60))
    chunks = [REALISTIC[a:b] for a, b in zip([0, *cuts], [*cuts, len(REALISTIC)], strict=True)]
    assert decode_all(chunks) == decode_all([REALISTIC])


def test_flush_dispatches_a_final_complete_line_without_blank_line() -> None:
    decoder = SSEDecoder()
    assert decoder.feed(b"data: 1\n\ndata: [DONE]\n") == [b"1"]
    assert decoder.flush() == [DONE]


def test_flush_drops_a_partial_line() -> None:
    decoder = SSEDecoder()
    decoder.feed(b'data: {"choi')
    assert decoder.flush() == []


def test_is_done() -> None:
    assert is_done(b"[DONE]")
    assert is_done(b" [DONE] ")
    assert not is_done(b"[DONE]x")
    assert not is_done(b'{"content":"[DONE]"}')
