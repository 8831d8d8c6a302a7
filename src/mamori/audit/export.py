"""Exports of the audit trail that an outside party can verify without mamori or its database.

JSON lines (``jsonl``): a header, then one line per record, then the signed checkpoints in the
range. Each record line is exactly the object its hash covers plus ``type`` and
``record_hash`` (and ``content``, when asked for): drop those keys, serialise the rest as JSON
with sorted keys and no whitespace in UTF-8, and SHA-256 gives ``record_hash``; each record's
``prev_hash`` is the ``record_hash`` of the line before, the first one's is the header's
``prev_hash``. A checkpoint's Ed25519 signature covers the JSON (same rules) of
``{"created_at", "key_id", "record_hash", "seq", "type": "mamori-audit-checkpoint"}``.

CSV (``csv``, for spreadsheets): one row per record with the readable columns and the exact
``canonical`` JSON the hash covers, so a row still verifies on its own. The header's material
and the checkpoints go into a JSON-lines sidecar.

An export is always a run of consecutive records: a date range becomes the sequence numbers
from the first record on or after ``since`` to the last one before ``until``, so nothing in
between can be left out unseen.
"""

from __future__ import annotations

import csv
import dataclasses
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import IO

import orjson

from mamori.audit.signing import PublicKey
from mamori.audit.verify import checkpoint_line
from mamori.domain.audit import AuditRecord
from mamori.domain.audit_chain import GENESIS, canonical, canonical_fields, utc_text
from mamori.store.database import Connection
from mamori.store.repos import audit_content
from mamori.store.repos.audit import AuditQuery, chained_rows, record_at, search_audit
from mamori.store.repos.audit_checkpoints import list_checkpoints

FORMAT = "mamori-audit-export"
VERSION = 1
ENCODING = (
    "record_hash = SHA-256 over the record line without its type, record_hash and content "
    "keys, as JSON with sorted keys, no whitespace, UTF-8; prev_hash = the record_hash of the "
    "record before (the first record's is 64 zeros); a checkpoint signs "
    '{"created_at","key_id","record_hash","seq","type":"mamori-audit-checkpoint"} encoded the '
    "same way, with Ed25519"
)


@dataclass(frozen=True, slots=True)
class ExportRange:
    start: int
    end: int

    @property
    def empty(self) -> bool:
        return self.end < self.start


def resolve_range(
    conn: Connection,
    *,
    start: int | None = None,
    end: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> ExportRange:
    """Sequence numbers for what was asked: explicit numbers, times, or the whole trail."""
    first = start or 1
    last = end
    if since is not None:
        found = search_audit(conn, AuditQuery(since=since), limit=1, newest_first=False)
        first = max(first, found[0][0]) if found else 1 << 62
    if until is not None:
        # The newest record that began before ``until``; an earlier-numbered one that began
        # later still lies inside the run and is exported with it.
        found = search_audit(conn, AuditQuery(until=until), limit=1)
        by_time = found[0][0] if found else 0
        last = by_time if last is None else min(last, by_time)
    if last is None:
        head = search_audit(conn, AuditQuery(), limit=1)
        last = head[0][0] if head else 0
    return ExportRange(first, last)


def _header(conn: Connection, span: ExportRange, keys: list[PublicKey]) -> dict[str, object]:
    before = record_at(conn, span.start - 1) if span.start > 1 else None
    return {
        "type": "header",
        "format": FORMAT,
        "version": VERSION,
        "exported_at": utc_text(datetime.now(UTC)),
        "from_seq": span.start,
        "to_seq": span.end,
        "prev_hash": before[2] if before else GENESIS,
        "public_keys": [{"key_id": k.key_id, "public_key": k.hex} for k in keys],
        "hash": "sha256",
        "signature": "ed25519",
        "encoding": ENCODING,
    }


def _records(conn: Connection, span: ExportRange) -> Iterator[tuple[int, str, str, AuditRecord]]:
    next_seq = span.start
    while next_seq <= span.end and (rows := chained_rows(conn, next_seq, span.end)):
        yield from rows
        next_seq = rows[-1][0] + 1


def _content(conn: Connection, seq: int) -> dict[str, object] | None:
    kept = audit_content.get_content(conn, seq)
    if kept is None:
        return None
    if kept.purged_at is not None:
        return {"purged_at": utc_text(kept.purged_at)}
    return {"prompt": kept.prompt, "answer": kept.answer, "reasoning": kept.reasoning}


def write_jsonl(
    conn: Connection,
    out: IO[bytes],
    span: ExportRange,
    keys: list[PublicKey],
    *,
    with_content: bool = False,
) -> int:
    """Write the export; return how many records it holds."""
    out.write(orjson.dumps(_header(conn, span, keys)) + b"\n")
    count = 0
    for seq, prev, digest, record in _records(conn, span):
        line: dict[str, object] = {
            "type": "record",
            **canonical_fields(seq, record, prev),
            "record_hash": digest,
        }
        if with_content and (content := _content(conn, seq)) is not None:
            line["content"] = content
        out.write(orjson.dumps(line) + b"\n")
        count += 1
    if not span.empty:
        for checkpoint in list_checkpoints(conn, start=span.start, end=span.end):
            out.write(checkpoint_line(checkpoint) + b"\n")
    return count


CSV_COLUMNS = [
    "seq",
    *(f.name for f in dataclasses.fields(AuditRecord)),
    "prev_hash",
    "record_hash",
    "canonical",
]


def write_csv(
    conn: Connection,
    out: IO[bytes],
    sidecar: IO[bytes] | None,
    span: ExportRange,
    keys: list[PublicKey],
) -> int:
    """CSV in UTF-8 with a byte-order mark, which Excel needs to read Japanese correctly."""
    text = io.TextIOWrapper(out, encoding="utf-8-sig", newline="")
    writer = csv.writer(text)
    writer.writerow(CSV_COLUMNS)
    count = 0
    for seq, prev, digest, record in _records(conn, span):
        fields = canonical_fields(seq, record, prev)
        row = [fields.get(name, "") for name in CSV_COLUMNS[:-3]]
        writer.writerow([*row, prev, digest, canonical(seq, record, prev).decode()])
        count += 1
    text.flush()
    text.detach()
    if sidecar is not None:
        sidecar.write(orjson.dumps(_header(conn, span, keys)) + b"\n")
        if not span.empty:
            for checkpoint in list_checkpoints(conn, start=span.start, end=span.end):
                sidecar.write(checkpoint_line(checkpoint) + b"\n")
    return count
