"""Parsing in worker processes, so that a hostile file cannot hang or crash mamori.

Workers are started through a fork server (forking the multi-threaded server itself is not
safe), stay warm across files, and each holds an address-space limit. A parse that takes
longer than ``timeout_seconds`` gets its worker killed and replaced and fails with
``parse_timeout``; a worker that dies mid-parse fails the file with ``corrupt_file``.
"""

from __future__ import annotations

import contextlib
import multiprocessing as mp
import queue
import resource
import threading
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from types import TracebackType

from mamori.domain.documents import ParsedDocument
from mamori.errors import DocumentRejectedError
from mamori.rag.parsers import ParseLimits, parse_document

# Enough for a 50 MB PDF or a large workbook; a decompression bomb hits it long before the
# machine runs out.
WORKER_MEMORY_BYTES = 2 * 1024 * 1024 * 1024


def _serve(conn: Connection, limits: ParseLimits) -> None:
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_AS, (WORKER_MEMORY_BYTES, WORKER_MEMORY_BYTES))
    while True:
        try:
            request = conn.recv()
        except EOFError:
            return
        if request is None:
            return
        data, filename = request
        try:
            reply: tuple[object, ...] = ("ok", parse_document(data, filename, limits))
        except DocumentRejectedError as exc:
            reply = ("rejected", exc.code, exc.message)
        except MemoryError:
            reply = ("rejected", "archive_bomb", "out of memory while parsing")
        # The worker's peak resident set so far (KiB), for the operator's sizing figures.
        conn.send((*reply, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss))


class _Worker:
    def __init__(self, context: mp.context.BaseContext, limits: ParseLimits) -> None:
        self.conn, child = mp.Pipe()
        self.process: BaseProcess = context.Process(  # type: ignore[attr-defined]
            target=_serve, args=(child, limits), daemon=True, name="mamori-parser"
        )
        self.process.start()
        child.close()

    def stop(self, *, kill: bool = False) -> None:
        if kill:
            self.process.kill()
        else:
            with contextlib.suppress(OSError, BrokenPipeError):
                self.conn.send(None)
        self.process.join(timeout=5)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(timeout=5)
        self.conn.close()


class ParserPool:
    def __init__(self, limits: ParseLimits | None = None, workers: int = 1) -> None:
        self.limits = limits or ParseLimits()
        self._context = mp.get_context("forkserver")
        self._context.set_forkserver_preload(["mamori.rag.parsers.isolation"])
        self._idle: queue.Queue[_Worker] = queue.Queue()
        self._all: list[_Worker] = []
        self._lock = threading.Lock()
        self._closed = False
        # The largest resident set any worker reached (KiB), as the workers report it.
        self.peak_worker_kib = 0
        # Started on the first file: a server that never ingests never pays for the processes.
        self._size = max(1, workers)
        self._started = False
        self._start_lock = threading.Lock()

    def _start(self) -> None:
        with self._start_lock:
            if not self._started:
                for _ in range(self._size):
                    self._add()
                self._started = True

    def _add(self) -> None:
        worker = _Worker(self._context, self.limits)
        with self._lock:
            self._all.append(worker)
        self._idle.put(worker)

    def _retire(self, worker: _Worker) -> None:
        with self._lock:
            self._all.remove(worker)
        worker.stop(kill=True)

    def parse(self, data: bytes, filename: str) -> ParsedDocument:
        """Blocks until a worker is free and has parsed the file."""
        if self._closed:
            raise RuntimeError("the parser pool is closed")
        # Refused here already, so a bomb of the wrong size never crosses the pipe.
        if not data:
            raise DocumentRejectedError("0 bytes", code="empty_file")
        if len(data) > self.limits.max_bytes:
            raise DocumentRejectedError(f"{len(data)} bytes", code="file_too_large")
        if not self._started:
            self._start()
        worker = self._idle.get()
        try:
            worker.conn.send((data, filename))
            if not worker.conn.poll(self.limits.timeout_seconds):
                self._retire(worker)
                self._add()
                raise DocumentRejectedError(
                    f"no result after {self.limits.timeout_seconds} s", code="parse_timeout"
                )
            reply = worker.conn.recv()
        except (EOFError, OSError, BrokenPipeError) as exc:
            self._retire(worker)
            self._add()
            raise DocumentRejectedError("the parser worker died", code="corrupt_file") from exc
        self._idle.put(worker)
        self.peak_worker_kib = max(self.peak_worker_kib, reply[-1])
        if reply[0] == "ok":
            parsed: ParsedDocument = reply[1]
            return parsed
        raise DocumentRejectedError(reply[2], code=reply[1])

    def close(self) -> None:
        self._closed = True
        with self._lock:
            workers = list(self._all)
            self._all.clear()
        for worker in workers:
            worker.stop()

    def __enter__(self) -> ParserPool:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()
