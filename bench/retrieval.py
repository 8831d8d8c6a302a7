"""Knowledge-base retrieval: quality on JSQuAD and JFinTEB, ingestion speed, query latency.

Run from the repository root (``make bench-retrieval``)::

    .venv/bin/python bench/retrieval.py [--backends sqlite,postgresql] [--chunks 100000]
                                        [--pdfs 40] [--skip quality,ingest,latency]

Everything goes through the product's own path: a knowledge base is created with the
repository functions ``mamori kb create`` uses, files are ingested by the ``Ingestor`` of
``mamori.knowledge.ingestor`` (parser worker process, chunking, injection screen,
tokenizer, keyword index) exactly as ``mamori kb ingest`` does, and queries are answered by
``KeywordSearch`` as ``mamori kb search`` answers them.

- Quality. JSQuAD v1.3 valid as passage retrieval: each distinct context is a Markdown file
  (``# TITLE`` then the paragraph; contexts start with ``TITLE [SEP] ``), each question's
  relevant document is its context. JFinTEB wikinews: each article a text file, the
  validation queries with their relevant articles. Top 50 chunks are merged into documents
  (a document ranks at its best chunk). Recall@1/5/10, MRR@10 and nDCG@10 (binary), keyword
  search only (hybrid needs an embedding endpoint, which this machine has none of).
- Ingestion: generated multi-page Japanese text PDFs (``tests.support.documents.build_pdf``,
  pages of about 1,200 characters from the corpora), pages per second from accept to
  indexed, against the issue's 30 pages/s; and the parse alone, for the share it takes.
- Latency: a knowledge base of ``--chunks`` chunks made from the corpora's sentences,
  reshuffled; JSQuAD questions as queries, one at a time; p50/p95 against 50 ms.
- Peak memory: the largest resident set of this process and of the parser worker.

It reports, it does not gate: a missed target exits 0.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import random
import resource
import statistics
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # for tests.support.documents

from tests.conftest import throwaway_pg_schema  # noqa: E402
from tests.support.documents import build_pdf  # noqa: E402

from mamori.domain.classification import Classification  # noqa: E402
from mamori.domain.documents import KnowledgeBase  # noqa: E402
from mamori.knowledge import ingestor as knowledge_ingestor  # noqa: E402
from mamori.knowledge import keyword_search, parse_limits  # noqa: E402
from mamori.rag.parsers import parse_document  # noqa: E402
from mamori.rag.parsers.isolation import ParserPool  # noqa: E402
from mamori.rag.search import KeywordSearch  # noqa: E402
from mamori.settings import Settings  # noqa: E402
from mamori.store import Database, upgrade  # noqa: E402
from mamori.store.repos import knowledge_bases  # noqa: E402
from mamori.store.repos.groups import create_group  # noqa: E402
from mamori.store.repos.kb_documents import count_chunks  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
JSQUAD = DATA / "jsquad-v1.3-valid.json"
WIKINEWS_DOCS = DATA / "jfinteb-wikinews-docs.jsonl"
WIKINEWS_QUERIES = DATA / "jfinteb-wikinews-queries-validation.jsonl"

TARGETS = {
    "jsquad": {"ndcg@10": 0.94, "recall@5": 0.965},
    "wikinews": {"ndcg@10": 0.90},
}
TARGET_PAGES_PER_S = 30.0
TARGET_P95_MS = 50.0
CHUNK_CANDIDATES = 50
# The parser workers are the fork server's children, not ours: they report their own peak.
PEAK_WORKER_KIB = [0]


@dataclass(frozen=True)
class Task:
    name: str
    files: list[tuple[str, str]]  # filename, text
    queries: list[tuple[str, set[str]]]  # query, relevant filenames


def jsquad() -> Task:
    data = json.loads(JSQUAD.read_text(encoding="utf-8"))
    files: dict[str, str] = {}
    queries: list[tuple[str, set[str]]] = []
    for article in data["data"]:
        for paragraph in article["paragraphs"]:
            title, _, body = paragraph["context"].partition(" [SEP] ")
            name = f"jsquad-{len(files):05d}.md"
            files[name] = f"# {title.strip()}\n\n{body.strip()}\n"
            queries.extend((qa["question"], {name}) for qa in paragraph["qas"])
    return Task("jsquad", list(files.items()), queries)


def wikinews() -> Task:
    files = []
    for line in WIKINEWS_DOCS.read_text(encoding="utf-8").splitlines():
        doc = json.loads(line)
        files.append((_article_file(doc["docid"]), doc["text"]))
    queries = []
    for line in WIKINEWS_QUERIES.read_text(encoding="utf-8").splitlines():
        q = json.loads(line)
        queries.append((q["query"], {_article_file(d) for d in q["relevant_docs"]}))
    return Task("wikinews", files, queries)


def _article_file(docid: object) -> str:
    # The articles have no titles, so a text file's name becomes its title and is ranked. A
    # number in it would match the numbers in headlines ("wikinews-100" for "100人が…"):
    # letters instead, behind a "qx" that no headline contains.
    n, letters = int(str(docid)), ""
    while True:
        n, digit = divmod(n, 26)
        letters = "abcdefghijklmnopqrstuvwxyz"[digit] + letters
        if n == 0:
            return f"wikinews-qx{letters}.txt"


# --- the product's path -------------------------------------------------------------------


@contextlib.contextmanager
def database(backend: str, folder: Path) -> Iterator[Database]:
    with contextlib.ExitStack() as stack:
        if backend == "sqlite":
            url = f"sqlite:///{folder / 'mamori.db'}"
        else:
            url = stack.enter_context(throwaway_pg_schema())
        db = Database(url)
        stack.callback(db.dispose)
        upgrade(db)
        yield db


def new_kb(db: Database, name: str) -> KnowledgeBase:
    group = db.write_sync(create_group, name=f"bench-{name}")
    return db.write_sync(
        knowledge_bases.create_kb,
        name=name,
        owner_group_id=group.id,
        classification=Classification.C1,
    )


def ingest(
    settings: Settings, db: Database, kb: KnowledgeBase, files: Sequence[tuple[str, bytes]]
) -> float:
    """Seconds to ingest ``files`` as ``mamori kb ingest`` does. A refused file is reported
    and left out, as the command does (wikinews has one article with no text)."""
    with ParserPool(parse_limits(settings)) as pool:
        ingestor = knowledge_ingestor(settings, db, pool)

        async def run() -> float:
            started = time.perf_counter()
            for name, data in files:
                result = await ingestor.ingest(kb, name, data)
                if not result.ok:
                    print(f"  {name}: not ingested ({result.error})")
            return time.perf_counter() - started

        seconds = asyncio.run(run())
        PEAK_WORKER_KIB[0] = max(PEAK_WORKER_KIB[0], pool.peak_worker_kib)
        return seconds


def ranked_documents(search: KeywordSearch, kb: KnowledgeBase, query: str) -> list[str]:
    hits = asyncio.run(search.search(query, kb_ids=[kb.id], user_id=None, limit=CHUNK_CANDIDATES))
    return list(dict.fromkeys(hit.filename for hit in hits))


# --- metrics ------------------------------------------------------------------------------


def metrics(runs: Sequence[tuple[list[str], set[str]]]) -> dict[str, float]:
    totals = dict.fromkeys(("recall@1", "recall@5", "recall@10", "mrr@10", "ndcg@10"), 0.0)
    for ranked, relevant in runs:
        for k in (1, 5, 10):
            totals[f"recall@{k}"] += len(relevant & set(ranked[:k])) / len(relevant)
        first = next((i for i, d in enumerate(ranked[:10], 1) if d in relevant), None)
        totals["mrr@10"] += 1 / first if first else 0.0
        dcg = sum(1 / math.log2(i + 1) for i, d in enumerate(ranked[:10], 1) if d in relevant)
        ideal = sum(1 / math.log2(i + 1) for i in range(1, min(len(relevant), 10) + 1))
        totals["ndcg@10"] += dcg / ideal
    return {name: value / len(runs) for name, value in totals.items()}


def quality(task: Task, backend: str, folder: Path) -> None:
    settings = Settings(data_dir=folder, local_engine=False)
    with database(backend, folder) as db:
        kb = new_kb(db, task.name)
        files = [(name, text.encode("utf-8")) for name, text in task.files]
        seconds = ingest(settings, db, kb, files)
        search = keyword_search(db)
        started = time.perf_counter()
        runs = [(ranked_documents(search, kb, q), relevant) for q, relevant in task.queries]
        per_query = (time.perf_counter() - started) / len(runs) * 1000
    figures = metrics(runs)
    print(
        f"\n{task.name} on {backend}: {len(files)} documents ingested in {seconds:.1f} s, "
        f"{len(runs)} queries ({per_query:.1f} ms each)"
    )
    for name, value in figures.items():
        target = TARGETS[task.name].get(name)
        verdict = (
            ""
            if target is None
            else f"  target >= {target:.3f}: "
            + (
                f"met (x{value / target:.3f})"
                if value >= target
                else f"MISSED (x{value / target:.3f})"
            )
        )
        print(f"  {name:<10} {value:.4f}{verdict}")
    print("  hybrid     not run: no embedding endpoint given")


# --- ingestion ----------------------------------------------------------------------------


def sentences() -> list[str]:
    out: list[str] = []
    for _, text in jsquad().files + wikinews().files:
        body = text.split("\n", 2)[-1] if text.startswith("# ") else text
        out.extend(s + "。" for s in body.replace("\n", "").split("。") if len(s) > 8)
    return out


def pages_of(pool: list[str], rng: random.Random, count: int, chars: int) -> list[str]:
    pages = []
    for _ in range(count):
        page: list[str] = []
        while sum(map(len, page)) < chars:
            page.append(rng.choice(pool))
        pages.append("".join(page))
    return pages


def ingestion(backend: str, folder: Path, pdf_count: int, pages_each: int) -> None:
    rng = random.Random(7)
    pool = sentences()
    pdfs = [
        (f"manual-{i:03d}.pdf", build_pdf(pages_of(pool, rng, pages_each, 1200), f"手引 {i}"))
        for i in range(pdf_count)
    ]
    pages = pdf_count * pages_each
    started = time.perf_counter()
    for name, data in pdfs:
        parse_document(data, name)
    parse_s = time.perf_counter() - started
    settings = Settings(data_dir=folder, local_engine=False)
    with database(backend, folder) as db:
        kb = new_kb(db, "ingest")
        seconds = ingest(settings, db, kb, pdfs)
    rate = pages / seconds
    print(
        f"\ningestion on {backend}: {pdf_count} PDFs x {pages_each} pages = {pages} pages "
        f"in {seconds:.2f} s: {rate:.1f} pages/s "
        f"(target {TARGET_PAGES_PER_S:.0f}: x{rate / TARGET_PAGES_PER_S:.2f}); "
        f"parsing alone in-process {pages / parse_s:.1f} pages/s "
        f"({parse_s / seconds:.0%} of the ingest time)"
    )


# --- latency ------------------------------------------------------------------------------


def latency(backend: str, folder: Path, chunks: int) -> None:
    rng = random.Random(11)
    pool = sentences()
    # About 100 chunks of ~700 characters per document, as a long manual would give.
    per_doc, chunk_chars = 100, 700
    documents = max(1, chunks // per_doc)
    files = []
    for i in range(documents):
        sections = [
            f"## 第{j + 1}節\n\n" + "".join(pages_of(pool, rng, 1, chunk_chars - 60))
            for j in range(per_doc)
        ]
        files.append((f"corpus-{i:05d}.md", f"# 資料{i}\n\n" + "\n\n".join(sections)))
    questions = [q for q, _ in jsquad().queries]
    rng.shuffle(questions)
    questions = questions[:1000]
    settings = Settings(data_dir=folder, local_engine=False)
    with database(backend, folder) as db:
        kb = new_kb(db, "latency")
        seconds = ingest(settings, db, kb, [(n, t.encode()) for n, t in files])
        total = db.read_sync(count_chunks, kb.id)
        search = keyword_search(db)
        for q in questions[:20]:  # warm the page cache and the tokenizer
            ranked_documents(search, kb, q)
        timings = []
        for q in questions:
            started = time.perf_counter()
            asyncio.run(search.search(q, kb_ids=[kb.id], user_id=None, limit=10))
            timings.append((time.perf_counter() - started) * 1000)
    timings.sort()
    p50 = statistics.median(timings)
    p95 = timings[int(len(timings) * 0.95) - 1]
    print(
        f"\nlatency on {backend}: {total} chunks ({documents} documents, ingested in "
        f"{seconds:.0f} s), {len(timings)} JSQuAD questions one at a time, top 10: "
        f"p50 {p50:.1f} ms, p95 {p95:.1f} ms "
        f"(target p95 <= {TARGET_P95_MS:.0f} ms: x{p95 / TARGET_P95_MS:.2f})"
    )


def peak_memory() -> None:
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    worker = PEAK_WORKER_KIB[0] / 1024
    print(f"\npeak memory: this process {own:.0f} MiB, largest parser worker {worker:.0f} MiB")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--latency-backends", default="sqlite")
    parser.add_argument("--chunks", type=int, default=100_000)
    parser.add_argument("--pdfs", type=int, default=40)
    parser.add_argument("--pages", type=int, default=10)
    parser.add_argument("--skip", default="", help="comma-separated: quality,ingest,latency")
    args = parser.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    print(f"load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    with tempfile.TemporaryDirectory(prefix="mamori-bench-retrieval-") as tmp:
        root = Path(tmp)
        for backend in args.backends.split(","):
            if "quality" not in skip:
                for task in (jsquad(), wikinews()):
                    quality(task, backend, _fresh(root))
            if "ingest" not in skip:
                ingestion(backend, _fresh(root), args.pdfs, args.pages)
        if "latency" not in skip:
            for backend in args.latency_backends.split(","):
                latency(backend, _fresh(root), args.chunks)
    peak_memory()


def _fresh(root: Path) -> Path:
    folder = Path(tempfile.mkdtemp(dir=root))
    return folder


if __name__ == "__main__":
    main()
