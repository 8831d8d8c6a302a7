"""How to tokenise Japanese for BM25: each candidate analysis, measured through FTS5.

Run from the repository root::

    .venv/bin/python bench/keyword_choice.py [--data DIR] [--only NAME ...]

Two retrieval tasks, used in place from ``../shared/data/`` (never copied):

- JSQuAD v1.3 valid: 4,442 questions → the paragraph each came from (1,145 paragraphs). The
  context's ``TITLE [SEP] `` prefix goes to the title column, the rest to the body.
- JFinTEB wikinews: 199 headline queries → their article (997 articles). An article is one
  unit; its text has no line breaks and no title, so the title column stays empty.

Every variant goes through ``mamori.rag.tokenizer.JapaneseTokenizer`` (only the whitespace
baseline does not), into an in-memory FTS5 table built as production builds ``kb_fts`` (the
same columns, ``FTS5_TOKENIZE``, an OR of quoted query terms, terms in more than half of the
rows left out unless none would remain, ``bm25()`` with the production column weights), so
the figures carry over. Metrics: Recall@1/5/10, MRR@10 and nDCG@10 with binary relevance.

Then: throughput of the default configuration (best of 3, one call per text, on one core) and
two threads sharing the tokenizer (per-thread Sudachi tokenizers vs one behind a lock).

It reports, it does not gate: missed targets still exit 0; a missing data file exits 1.
"""

from __future__ import annotations

import argparse
import json
import math
import sqlite3
import sys
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import partial
from pathlib import Path

from mamori.rag.tokenizer import (
    FTS5_TOKENIZE,
    FUNCTION_POS,
    JapaneseTokenizer,
    TokenizerConfig,
    sudachi_dictionary,
)
from mamori.store.keyword import BODY_WEIGHT, HEADINGS_WEIGHT, TITLE_WEIGHT

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA = ROOT / ".." / "shared" / "data"
TARGETS = {"jsquad": {"nDCG@10": 0.94, "R@5": 0.965}, "wikinews": {"nDCG@10": 0.90}}
METRICS = ("R@1", "R@5", "R@10", "MRR@10", "nDCG@10")


@dataclass(frozen=True, slots=True)
class Task:
    name: str
    docs: list[tuple[str, str]]  # (title, body)
    queries: list[tuple[str, frozenset[int]]]  # (text, indexes of the relevant docs)

    @property
    def chars(self) -> int:
        return sum(len(t) + len(b) for t, b in self.docs) + sum(len(q) for q, _ in self.queries)


@dataclass(frozen=True, slots=True)
class Analyzer:
    index: Callable[[str], list[str]]
    query: Callable[[str], list[str]]


def load_jsquad(path: Path) -> Task:
    data = json.loads(path.read_text(encoding="utf-8"))
    docs: list[tuple[str, str]] = []
    queries: list[tuple[str, frozenset[int]]] = []
    for article in data["data"]:
        for paragraph in article["paragraphs"]:
            title, _, body = paragraph["context"].partition(" [SEP] ")
            docs.append((title, body))
            queries += [(qa["question"], frozenset({len(docs) - 1})) for qa in paragraph["qas"]]
    return Task("jsquad", docs, queries)


def load_wikinews(docs_path: Path, queries_path: Path) -> Task:
    position: dict[int, int] = {}
    docs: list[tuple[str, str]] = []
    for line in docs_path.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        position[row["docid"]] = len(docs)
        docs.append(("", row["text"]))
    queries = []
    for line in queries_path.read_text(encoding="utf-8").splitlines():
        row = json.loads(line)
        queries.append((row["query"], frozenset(position[d] for d in row["relevant_docs"])))
    return Task("wikinews", docs, queries)


def evaluate(task: Task, analyzer: Analyzer) -> dict[str, float]:
    db = sqlite3.connect(":memory:")
    db.execute(
        "CREATE VIRTUAL TABLE kb_fts USING fts5(title, headings, body, "
        f'tokenize = "{FTS5_TOKENIZE}")'
    )
    db.execute("CREATE VIRTUAL TABLE kb_fts_vocab USING fts5vocab(kb_fts, row)")
    rows = []
    for i, (title, body) in enumerate(task.docs):
        t, b = analyzer.index(title), analyzer.index(body)
        if t or b:  # as production: a chunk without terms is not indexed
            rows.append((i, " ".join(t), "", " ".join(b)))
    db.executemany("INSERT INTO kb_fts (rowid, title, headings, body) VALUES (?, ?, ?, ?)", rows)
    total = db.execute("SELECT COUNT(*) FROM kb_fts_docsize").fetchone()[0]
    df = dict(db.execute("SELECT term, doc FROM kb_fts_vocab").fetchall())
    search = (
        "SELECT rowid FROM kb_fts WHERE kb_fts MATCH ? "
        f"ORDER BY bm25(kb_fts, {TITLE_WEIGHT}, {HEADINGS_WEIGHT}, {BODY_WEIGHT}) LIMIT 10"
    )
    sums = dict.fromkeys(METRICS, 0.0)
    for text, relevant in task.queries:
        present = [t for t in analyzer.query(text) if df.get(t, 0) > 0]
        kept = [t for t in present if df[t] <= total / 2] or present
        ranked: list[int] = []
        if kept:
            match = " OR ".join('"' + t.replace('"', '""') + '"' for t in kept)
            ranked = [r[0] for r in db.execute(search, (match,))]
        for name, value in score(ranked, relevant).items():
            sums[name] += value
    db.close()
    return {name: value / len(task.queries) for name, value in sums.items()}


def score(ranked: Sequence[int], relevant: frozenset[int]) -> dict[str, float]:
    hits = [doc in relevant for doc in ranked[:10]]
    first = next((i for i, hit in enumerate(hits) if hit), None)
    dcg = sum(1 / math.log2(i + 2) for i, hit in enumerate(hits) if hit)
    ideal = sum(1 / math.log2(i + 2) for i in range(min(len(relevant), 10)))
    return {
        "R@1": sum(hits[:1]) / len(relevant),
        "R@5": sum(hits[:5]) / len(relevant),
        "R@10": sum(hits) / len(relevant),
        "MRR@10": 0.0 if first is None else 1 / (first + 1),
        "nDCG@10": dcg / ideal,
    }


def whitespace() -> Analyzer:
    # The baseline: what splitting Japanese on spaces gives (nearly nothing).
    return Analyzer(index=str.split, query=lambda text: list(dict.fromkeys(text.split())))


def sudachi(config: TokenizerConfig) -> Analyzer:
    tokenizer = JapaneseTokenizer(config)
    return Analyzer(index=tokenizer.index_terms, query=tokenizer.query_terms)


def variants() -> list[tuple[str, Callable[[], Analyzer]]]:
    chosen = TokenizerConfig()
    # The grid compares mode × form with the common analysis and no query-only stopwords.
    plain = replace(chosen, query_stopwords=frozenset())
    out: list[tuple[str, Callable[[], Analyzer]]] = [("whitespace split", whitespace)]
    for mode in ("A", "B", "C"):
        for form in ("surface", "normalized", "dictionary"):
            config = replace(plain, mode=mode, form=form)
            out.append((f"{mode} {form}", partial(sudachi, config)))
    # One change at a time away from the chosen configuration.
    symbols = FUNCTION_POS | {"記号"}
    content = symbols | {"接続詞", "感動詞", "連体詞", "代名詞"}
    ablations: list[tuple[str, TokenizerConfig]] = [
        ("chosen (defaults)", chosen),
        ("chosen, mode A", replace(chosen, mode="A")),
        ("chosen, mode C", replace(chosen, mode="C")),
        ("chosen, no NFKC/lower", replace(chosen, normalize=False)),
        ("chosen, POS filter none", replace(chosen, drop_pos=frozenset())),
        ("chosen, POS drop +記号", replace(chosen, drop_pos=symbols)),
        ("chosen, POS content only", replace(chosen, drop_pos=content)),
        ("chosen, no query stopwords", plain),
        ("chosen, no OOV bigrams", replace(chosen, oov_bigrams=False)),
    ]
    out += [(name, partial(sudachi, config)) for name, config in ablations]
    return out


def print_table(results: list[tuple[str, dict[str, dict[str, float]]]]) -> None:
    head = " ".join(f"{m:>7}" for m in METRICS)
    print(f"{'variant':<28} | jsquad  {head} | wikinews {head}")
    for name, by_task in results:
        cells = " | ".join(
            f"{'':8} " + " ".join(f"{by_task[t][m]:7.4f}" for m in METRICS)
            for t in ("jsquad", "wikinews")
        )
        print(f"{name:<28} | {cells}")


def verdicts(name: str, by_task: dict[str, dict[str, float]]) -> None:
    for task, targets in TARGETS.items():
        for metric, target in targets.items():
            got = by_task[task][metric]
            verdict = "met" if got >= target else "MISSED"
            print(f"  {name}: {task} {metric} {got:.4f} (target ≥ {target}) {verdict}")


def throughput(tasks: Sequence[Task]) -> None:
    tokenizer = JapaneseTokenizer()
    texts = [b for task in tasks for _, b in task.docs]
    chars = sum(map(len, texts))
    tokenizer.index_terms("warm-up")
    best = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        for text in texts:
            tokenizer.index_terms(text)
        best = min(best, time.perf_counter() - started)
    mb = sum(len(t.encode()) for t in texts) / 1e6
    print(
        f"\nthroughput, default config, one thread: {chars / best:,.0f} chars/s "
        f"({mb / best:.2f} MB/s UTF-8) over {len(texts)} document texts"
    )
    threads(texts)


def threads(texts: Sequence[str]) -> None:
    # Per-thread tokenizers (the module's way) vs one Sudachi tokenizer behind a lock.
    shared = JapaneseTokenizer()
    lock = threading.Lock()
    locked_tokenizer = sudachi_dictionary().tokenizer("B", fields={"pos", "normalized_form"})

    def per_thread() -> None:
        for text in texts:
            shared.index_terms(text)

    def with_lock() -> None:
        for text in texts:
            with lock:
                [m.normalized_form() for m in locked_tokenizer.tokenize(text[:10_000])]

    for name, work in (
        ("thread-local tokenizers", per_thread),
        ("one tokenizer + lock", with_lock),
    ):
        started = time.perf_counter()
        pool = [threading.Thread(target=work) for _ in range(2)]
        for t in pool:
            t.start()
        for t in pool:
            t.join()
        chars = 2 * sum(map(len, texts))
        print(f"two threads, {name}: {chars / (time.perf_counter() - started):,.0f} chars/s")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--data", type=Path, default=DEFAULT_DATA)
    parser.add_argument("--only", nargs="*", help="variant names to run (default: all)")
    args = parser.parse_args(argv)
    files = [
        args.data / "jsquad-v1.3-valid.json",
        args.data / "jfinteb-wikinews-docs.jsonl",
        args.data / "jfinteb-wikinews-queries-validation.jsonl",
    ]
    missing = [str(f) for f in files if not f.is_file()]
    if missing:
        print(f"missing data: {', '.join(missing)}", file=sys.stderr)
        return 1
    tasks = [load_jsquad(files[0]), load_wikinews(files[1], files[2])]
    for task in tasks:
        print(
            f"{task.name}: {len(task.docs)} docs, {len(task.queries)} queries, {task.chars:,} chars"
        )
    print(
        f"FTS5 tokenize = {FTS5_TOKENIZE!r}; bm25 weights title {TITLE_WEIGHT}, "
        f"headings {HEADINGS_WEIGHT}, body {BODY_WEIGHT}\n"
    )
    results = []
    for name, make in variants():
        if args.only and name not in args.only:
            continue
        started = time.perf_counter()
        analyzer = make()
        results.append((name, {task.name: evaluate(task, analyzer) for task in tasks}))
        print(f"  {name}: {time.perf_counter() - started:.1f} s", file=sys.stderr)
    print_table(results)
    print()
    for name, by_task in results:
        if name.startswith("chosen (defaults)"):
            verdicts(name, by_task)
    throughput(tasks)
    return 0


if __name__ == "__main__":
    sys.exit(main())
