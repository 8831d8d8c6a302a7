"""What auditors do with the trail in the workspace: search it, open a record, read what was
said, look at the chain's state, and take an export away.

Only the auditor role may do any of it — an administrator without that role is refused too, so
the people who run the system are not the ones who check it. Nothing here writes to a record:
reading content and exporting each append their own record instead, in the same transaction as
the read (content) or before a byte leaves (export), so there is no unrecorded look.
"""

from __future__ import annotations

import dataclasses
import shutil
import tempfile
import zipfile
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import IO, Any
from zoneinfo import ZoneInfo

import orjson

from mamori.audit.acts import act_record
from mamori.audit.export import ExportRange, resolve_range, write_csv, write_jsonl
from mamori.audit.signing import PublicKey
from mamori.domain.audit import AuditRecord, TurnStatus
from mamori.domain.classification import Classification
from mamori.domain.principal import Principal
from mamori.errors import ForbiddenError, InvalidRequestError, NotFoundError, StorageFullError
from mamori.store.database import Connection, Database
from mamori.store.repos import audit_content
from mamori.store.repos.audit import append_audit, chain_head, record_at
from mamori.store.repos.audit_checkpoints import latest_checkpoint, latest_verification

ACTION_CONTENT_READ = "audit.content_read"
ACTION_EXPORT = "audit.export"
EXPORT_FORMATS = ("jsonl", "csv")
# Exports are built on disk past this size, so a year of records does not sit in memory.
SPOOL_BYTES = 8 * 1024 * 1024


def require_auditor(principal: Principal) -> None:
    if not principal.is_auditor:
        raise ForbiddenError("only auditors may read the audit trail")


def parse_day(value: str | None, name: str) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise InvalidRequestError(f"{name} must be a date (YYYY-MM-DD)") from None


@dataclass(frozen=True, slots=True)
class DayRange:
    """Local calendar days, both ends included, as the instants that bound them."""

    since: datetime | None
    until: datetime | None  # exclusive: the start of the day after the last one

    @classmethod
    def parse(cls, since: str | None, until: str | None, zone: ZoneInfo) -> DayRange:
        first, last = parse_day(since, "since"), parse_day(until, "until")
        if first and last and last < first:
            raise InvalidRequestError("until must not be before since")
        return cls(
            since=_midnight(first, zone) if first else None,
            until=_midnight(last + timedelta(days=1), zone) if last else None,
        )


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=zone)


def classification_of(value: int | None) -> Classification | None:
    if value is None:
        return None
    try:
        return Classification(value)
    except ValueError:
        raise InvalidRequestError("classification must be 0 to 3") from None


def status_of(value: str | None) -> TurnStatus | None:
    if not value:
        return None
    try:
        return TurnStatus(value)
    except ValueError:
        raise InvalidRequestError(f"unknown status {value!r}") from None


def plain(value: Any) -> Any:
    """A record's field as JSON carries it."""
    if isinstance(value, Classification):
        return int(value)
    if isinstance(value, TurnStatus):
        return value.value
    return value


def _json_text(text: str | None) -> Any:
    if not text:
        return None
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return text


def record_detail(conn: Connection, seq: int) -> dict[str, Any]:
    """Every field of one record, its place in the chain and whether its content is kept."""
    found = record_at(conn, seq)
    if found is None:
        raise NotFoundError("no such audit record")
    record, prev_hash, digest = found
    kept = audit_content.get_content(conn, seq)
    detail = {name: plain(v) for name, v in dataclasses.asdict(record).items()}
    detail.update(
        seq=seq,
        prev_hash=prev_hash,
        record_hash=digest,
        decisions=_json_text(record.decisions),
        findings=_json_text(record.findings),
        content_kept=kept is not None and kept.purged_at is None,
        content_purged_at=kept.purged_at if kept else None,
    )
    return detail


async def read_content(db: Database, auditor: Principal, seq: int) -> dict[str, Any]:
    """The prompt, answer and reasoning kept for a record; the read itself is recorded."""
    require_auditor(auditor)

    def read_and_record(conn: Connection) -> dict[str, Any]:
        found = record_at(conn, seq)
        if found is None:
            raise NotFoundError("no such audit record")
        record = found[0]
        kept = audit_content.get_content(conn, seq)
        append_audit(conn, _content_read(auditor, seq, record))
        visible = kept is not None and kept.purged_at is None
        return {
            "seq": seq,
            "kept": visible,
            "purged_at": kept.purged_at if kept else None,
            "prompt": kept.prompt if kept else None,
            "answer": kept.answer if kept else None,
            "reasoning": kept.reasoning if kept else None,
        }

    return await db.write(read_and_record)


def _content_read(auditor: Principal, seq: int, record: AuditRecord) -> AuditRecord:
    return act_record(
        auditor,
        ACTION_CONTENT_READ,
        subject=str(seq),
        model=record.model,
        classification=record.classification,
    )


def chain_status(conn: Connection, key_id: str) -> dict[str, Any]:
    """The newest record, the newest signed checkpoint and how the last verification went."""
    head = chain_head(conn)
    checkpoint = latest_checkpoint(conn)
    verification = latest_verification(conn)
    return {
        "head_seq": head[0] if head else 0,
        "latest_checkpoint": None
        if checkpoint is None
        else {
            "seq": checkpoint.seq,
            "created_at": checkpoint.created_at,
            "key_id": checkpoint.key_id,
        },
        "latest_verification": None
        if verification is None
        else {
            "at": verification.at,
            "checked": verification.checked,
            "ok": verification.ok,
            "first_bad": verification.first_bad,
            "problem": verification.problem,
        },
        "key_id": key_id,
    }


@dataclass(frozen=True, slots=True)
class ExportFile:
    body: IO[bytes]  # positioned at the start; the caller closes it
    filename: str
    media_type: str
    records: int


async def export_trail(
    db: Database,
    auditor: Principal,
    days: DayRange,
    *,
    format: str,
    keys: list[PublicKey],
    with_content: bool = False,
) -> ExportFile:
    """An export an outside party can verify offline, its taking recorded before it is built.

    JSON lines is one self-contained file. CSV comes as a ZIP holding the spreadsheet and the
    ``.verify.jsonl`` sidecar with the public keys and checkpoints, which verification needs.
    """
    require_auditor(auditor)
    if format not in EXPORT_FORMATS:
        raise InvalidRequestError("format must be jsonl or csv")
    if with_content and format != "jsonl":
        raise InvalidRequestError("content is exported as JSON lines only")
    span = await db.read(lambda c: resolve_range(c, since=days.since, until=days.until))
    classification = Classification.C3 if with_content else Classification.C2
    subject = f"{format}:{span.start}-{span.end}" + (":content" if with_content else "")
    await db.write(
        lambda c: append_audit(
            c,
            act_record(
                auditor, ACTION_EXPORT, subject=subject, model="", classification=classification
            ),
        )
    )
    body = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)  # noqa: SIM115 - returned open
    try:
        count = await db.read(_write_export, body, span, keys, format, with_content)
    except OSError as exc:
        body.close()
        raise StorageFullError(f"the export could not be written: {exc.strerror}") from exc
    except BaseException:
        body.close()
        raise
    body.seek(0)
    name = f"mamori-audit-{span.start}-{span.end}"
    if format == "csv":
        return ExportFile(body, name + ".zip", "application/zip", count)
    return ExportFile(body, name + ".jsonl", "application/x-ndjson", count)


def _write_export(
    conn: Connection,
    out: IO[bytes],
    span: ExportRange,
    keys: list[PublicKey],
    format: str,
    with_content: bool,
) -> int:
    if format == "jsonl":
        return write_jsonl(conn, out, span, keys, with_content=with_content)
    name = f"mamori-audit-{span.start}-{span.end}.csv"
    # A ZIP takes one entry at a time: the sidecar waits in its own spool meanwhile.
    with (
        tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES) as sidecar,
        zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive,
    ):
        with archive.open(name, "w") as table:
            count = write_csv(conn, table, sidecar, span, keys)
        sidecar.seek(0)
        with archive.open(name + ".verify.jsonl", "w") as entry:
            shutil.copyfileobj(sidecar, entry)
    return count
