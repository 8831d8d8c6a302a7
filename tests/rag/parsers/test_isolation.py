"""Parsing in worker processes: results and refusals come back as in-process parsing gives
them, a parse that runs too long is killed without harming the next file, and files refused
by size never cross the pipe."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest

from mamori.errors import DocumentRejectedError
from mamori.rag.parsers import ParseLimits
from mamori.rag.parsers.isolation import ParserPool
from tests.support.documents import build_pdf, build_zip_bomb_docx


@pytest.fixture(scope="module")
def pool() -> Iterator[ParserPool]:
    with ParserPool(ParseLimits(max_bytes=10 * 1024 * 1024, timeout_seconds=30)) as pool:
        yield pool


def test_a_worker_parses_and_reports_its_memory(pool: ParserPool) -> None:
    parsed = pool.parse(build_pdf(["一頁目。", "二頁目の本文。"], "手引"), "手引.pdf")
    assert parsed.pages == 2 and parsed.title == "手引"
    assert "二頁目の本文" in parsed.blocks[-1].text
    assert pool.peak_worker_kib > 10_000  # a Python process with pypdfium2 loaded


def test_refusals_come_back_with_their_code(pool: ParserPool) -> None:
    with pytest.raises(DocumentRejectedError) as refused:
        pool.parse(build_zip_bomb_docx(), "爆弾.docx")
    assert refused.value.code == "archive_bomb"
    # The worker that refused is still there for the next file.
    assert pool.parse("# 題\n\n本文".encode(), "a.md").title == "題"


def test_sizes_are_refused_before_a_worker_is_asked(pool: ParserPool) -> None:
    for data, code in ((b"", "empty_file"), (b"x" * (11 * 1024 * 1024), "file_too_large")):
        with pytest.raises(DocumentRejectedError) as refused:
            pool.parse(data, "a.txt")
        assert refused.value.code == code


def test_a_parse_that_takes_too_long_is_killed_and_the_pool_goes_on() -> None:
    # Three hundred pages take pypdfium2 tens of milliseconds: far over a 5 ms limit.
    slow = build_pdf([f"第{i}頁の本文。" * 20 for i in range(300)])
    with ParserPool(ParseLimits(timeout_seconds=0.005)) as pool:
        with pytest.raises(DocumentRejectedError) as refused:
            pool.parse(slow, "長い.pdf")
        assert refused.value.code == "parse_timeout"
        [replacement] = pool._all
        assert replacement.process.is_alive()
        pool.limits = dataclasses.replace(pool.limits, timeout_seconds=30)
        assert pool.parse(slow, "長い.pdf").pages == 300
    assert not replacement.process.is_alive()  # closing stops the workers
    with pytest.raises(RuntimeError):
        pool.parse(b"x", "a.txt")
