"""``ParserPool``: files parsed in worker processes come back as parsing in-process gives them,
refusals keep their reason, a parse over the time limit costs its worker and nothing else,
and files refused by size never reach a worker."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from multiprocessing.process import BaseProcess

import pytest

from mamori.errors import DocumentRejectedError
from mamori.rag.parsers import ParseLimits, parse_document
from mamori.rag.parsers.isolation import ParserPool
from tests.support.documents import (
    build_docx,
    build_encrypted_pdf,
    build_image_only_pdf,
    build_pdf,
    build_pptx,
    build_xlsx,
    build_zip_bomb_docx,
)

# A hung pool blocks forever on its idle queue; fail in bounded time instead.
pytestmark = pytest.mark.timeout(60)


def workers_of(pool: ParserPool) -> list[BaseProcess]:
    # No public view of the workers exists; their processes are what these tests are about.
    return [worker.process for worker in pool._all]


def gone(pid: int | None) -> bool:
    assert pid is not None
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    return False


@pytest.fixture(scope="module")
def pool() -> Iterator[ParserPool]:
    # Two workers, so that concurrent parses really run side by side.
    with ParserPool(ParseLimits(timeout_seconds=60), workers=2) as shared:
        yield shared


def test_a_pdf_is_parsed_in_a_worker_as_in_process(pool: ParserPool) -> None:
    data = build_pdf(["第一頁の本文です。", "第二頁の本文です。"], title="手順書")
    parsed = pool.parse(data, "手順書.pdf")
    assert parsed == parse_document(data, "手順書.pdf")
    assert [(b.page, b.text) for b in parsed.blocks] == [
        (1, "第一頁の本文です。"),
        (2, "第二頁の本文です。"),
    ]
    assert parsed.title == "手順書"
    assert pool.peak_worker_kib > 0
    assert all(process.pid != os.getpid() for process in workers_of(pool))


@pytest.mark.parametrize(
    ("data", "filename"),
    [
        (build_docx([("Heading 1", "総則"), ("Normal", "本文。")], title="規程"), "規程.docx"),
        (build_xlsx({"一覧": [["氏名", "部署"], ["山田", "総務"]]}), "一覧.xlsx"),
        (build_pptx([("概要", ["一点目"])]), "概要.pptx"),
        ("<title>案内</title><h1>窓口</h1><p>平日</p>".encode(), "案内.html"),
        ("# 題\n\n本文".encode(), "題.md"),
        ("種類,金額\n住民票,300\n".encode("cp932"), "手数料.csv"),
    ],
)
def test_every_format_comes_back_from_a_worker_intact(
    pool: ParserPool, data: bytes, filename: str
) -> None:
    assert pool.parse(data, filename) == parse_document(data, filename)


@pytest.mark.parametrize(
    ("data", "filename", "code", "words"),
    [
        (build_encrypted_pdf(), "secret.pdf", "encrypted_file", "password"),
        (build_image_only_pdf(), "scan.pdf", "no_text_layer", "text layer"),
        (build_zip_bomb_docx(2 * 1024 * 1024), "bomb.docx", "archive_bomb", "ratio"),
        (build_pdf(["本物のPDF"]), "renamed.docx", "corrupt_file", "docx"),
        (b"hello", "setup.exe", "unsupported_file_type", "suffix"),
    ],
)
def test_a_refusal_in_the_worker_keeps_its_code_and_message(
    pool: ParserPool, data: bytes, filename: str, code: str, words: str
) -> None:
    pool.parse(b"warm up", "warm.txt")  # started, whichever test runs first
    before = [p.pid for p in workers_of(pool)]
    with pytest.raises(DocumentRejectedError) as info:
        pool.parse(data, filename)
    assert info.value.code == code
    assert words in info.value.message
    # A refusal is an answer, not a failure: the workers that gave it stay.
    assert [p.pid for p in workers_of(pool)] == before


def test_concurrent_parses_each_get_their_own_result(pool: ParserPool) -> None:
    files = {f"doc{i}.pdf": build_pdf([f"文書{i}の一頁目", f"文書{i}の二頁目"]) for i in range(8)}
    with ThreadPoolExecutor(max_workers=4) as executor:
        results = dict(
            zip(
                files,
                executor.map(lambda item: pool.parse(item[1], item[0]), files.items()),
                strict=True,
            )
        )
    for name, parsed in results.items():
        number = name.removeprefix("doc").removesuffix(".pdf")
        assert [b.text for b in parsed.blocks] == [f"文書{number}の一頁目", f"文書{number}の二頁目"]


def test_the_pools_limits_apply_inside_the_worker() -> None:
    with ParserPool(ParseLimits(max_pages=1, max_zip_members=3)) as limited:
        with pytest.raises(DocumentRejectedError) as pages:
            limited.parse(build_pdf(["一頁目", "二頁目"]), "two.pdf")
        with pytest.raises(DocumentRejectedError) as members:
            limited.parse(build_docx([("Normal", "本文")]), "a.docx")
        assert workers_of(limited)  # refused by the worker, not before it
    assert pages.value.code == "file_too_large"
    assert "2 pages" in pages.value.message
    assert members.value.code == "archive_bomb"


def test_empty_and_oversize_files_are_refused_before_any_worker_starts() -> None:
    with ParserPool(ParseLimits(max_bytes=1000)) as fresh:
        with pytest.raises(DocumentRejectedError) as empty:
            fresh.parse(b"", "empty.txt")
        with pytest.raises(DocumentRejectedError) as big:
            fresh.parse(b"x" * 1001, "big.txt")
        # The pool starts its workers on the first file it accepts: none has been yet.
        assert workers_of(fresh) == []
    assert empty.value.code == "empty_file"
    assert big.value.code == "file_too_large"


def test_a_parse_over_the_time_limit_kills_its_worker_and_the_next_file_is_parsed() -> None:
    # Several megabytes of text take a worker tens of milliseconds to receive, decode, split
    # and send back; a millisecond is never enough, however fast the machine.
    slow = (("長い段落の本文です。" * 40 + "\n\n") * 5000).encode()
    with ParserPool(ParseLimits(timeout_seconds=60)) as timed:
        assert timed.parse(b"warm up", "warm.txt").blocks[0].text == "warm up"
        (first,) = workers_of(timed)
        # Only the wait for a reply reads the limit per call, so it can be tightened here.
        timed.limits = dataclasses.replace(timed.limits, timeout_seconds=0.001)
        with pytest.raises(DocumentRejectedError) as info:
            timed.parse(slow, "slow.txt")
        assert info.value.code == "parse_timeout"
        first.join(timeout=5)
        assert not first.is_alive()
        assert first.exitcode == -9  # killed, not asked to stop
        timed.limits = dataclasses.replace(timed.limits, timeout_seconds=60)
        # The killed worker's late answer must never be taken for the next file's.
        assert [b.text for b in timed.parse(b"next file", "next.txt").blocks] == ["next file"]
        (replacement,) = workers_of(timed)
        assert replacement.pid != first.pid
        assert replacement.is_alive()


def test_a_worker_that_dies_fails_its_file_and_is_replaced() -> None:
    with ParserPool() as fragile:
        fragile.parse(b"warm up", "warm.txt")
        (worker,) = workers_of(fragile)
        worker.kill()
        worker.join(timeout=5)
        with pytest.raises(DocumentRejectedError) as info:
            fragile.parse(b"unlucky", "unlucky.txt")
        assert info.value.code == "corrupt_file"
        assert [b.text for b in fragile.parse(b"next", "next.txt").blocks] == ["next"]
        (replacement,) = workers_of(fragile)
        assert replacement.pid != worker.pid


def test_closing_the_pool_stops_its_workers_and_refuses_further_files() -> None:
    closing = ParserPool(workers=2)
    closing.parse(b"start", "start.txt")
    processes = workers_of(closing)
    assert len(processes) == 2
    assert all(p.is_alive() for p in processes)
    closing.close()
    assert all(not p.is_alive() for p in processes)
    # Asked to stop, they end cleanly rather than being killed.
    assert [p.exitcode for p in processes] == [0, 0]
    assert all(gone(p.pid) for p in processes)
    with pytest.raises(RuntimeError, match="closed"):
        closing.parse(b"late", "late.txt")


def test_leaving_the_with_block_closes_the_pool() -> None:
    with ParserPool() as scoped:
        scoped.parse(b"start", "start.txt")
        processes = workers_of(scoped)
    assert [p.exitcode for p in processes] == [0]
    with pytest.raises(RuntimeError, match="closed"):
        scoped.parse(b"late", "late.txt")


def test_a_pool_that_never_parsed_closes_without_starting_workers() -> None:
    idle = ParserPool()
    idle.close()
    assert workers_of(idle) == []
    with pytest.raises(RuntimeError, match="closed"):
        idle.parse(b"late", "late.txt")
