"""NDJSON framing: whole lines out, whatever the network reads cut."""

from __future__ import annotations

import pytest

from mamori.gateway.ndjson import NDJSONDecoder

BODY = b'{"a":1}\n{"b":"\xe6\x9d\xb1"}\r\n\n{"done":true}\n'


@pytest.mark.parametrize("size", [1, 2, 3, 7, 1000])
def test_lines_come_out_whole_at_any_read_size(size: int) -> None:
    decoder = NDJSONDecoder()
    lines = [line for i in range(0, len(BODY), size) for line in decoder.feed(BODY[i : i + size])]
    assert [line.rstrip(b"\r") for line in lines] == [
        b'{"a":1}',
        b'{"b":"\xe6\x9d\xb1"}',
        b'{"done":true}',
    ]
    assert decoder.flush() == []


def test_a_last_line_without_newline_is_dispatched_at_the_end() -> None:
    decoder = NDJSONDecoder()
    assert decoder.feed(b'{"done":true') == []
    assert decoder.flush() == [b'{"done":true']
    assert decoder.flush() == []
