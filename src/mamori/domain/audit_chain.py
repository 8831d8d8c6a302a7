"""The audit trail's hash chain: a canonical encoding of each record, chained by SHA-256.

Each record's hash covers its sequence number, every field, and the previous record's hash, so
editing, deleting or reordering any record breaks every hash after it. Pure functions: the
store appends with them and ``mamori audit verify`` recomputes with them.
"""

from __future__ import annotations

import dataclasses
import hashlib
from datetime import UTC, datetime
from enum import Enum
from typing import Any

import orjson

from mamori.domain.audit import AuditRecord

GENESIS = "0" * 64


def utc_text(moment: datetime) -> str:
    """A time as the chain encodes it: UTC, to the microsecond, with a Z."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical(seq: int, record: AuditRecord, prev_hash: str) -> bytes:
    """One stable byte string per record: its ``canonical_fields`` as JSON with sorted keys and
    no whitespace, in UTF-8. Exports document this so anyone can recompute it."""
    return orjson.dumps(canonical_fields(seq, record, prev_hash), option=orjson.OPT_SORT_KEYS)


def canonical_fields(seq: int, record: AuditRecord, prev_hash: str) -> dict[str, Any]:
    """What a record's hash covers: its position, its predecessor's hash and every field that
    is not None, with UTC times to the microsecond and enums as their values.

    Fields added to ``AuditRecord`` later must default to None, so records written before
    keep their encoding.
    """
    fields: dict[str, Any] = {"seq": seq, "prev_hash": prev_hash}
    for field in dataclasses.fields(AuditRecord):
        value = getattr(record, field.name)
        if value is None:
            continue
        if isinstance(value, datetime):
            value = utc_text(value)
        elif isinstance(value, Enum):
            value = value.value
        fields[field.name] = value
    return fields


def record_hash(seq: int, record: AuditRecord, prev_hash: str) -> str:
    return hashlib.sha256(canonical(seq, record, prev_hash)).hexdigest()


def content_hash(text: str | None) -> str | None:
    """The hash a record keeps of a piece of content: SHA-256 of its UTF-8 bytes; None for none."""
    if not text:
        return None
    return hashlib.sha256(text.encode()).hexdigest()


def checkpoint_payload(seq: int, record_hash_: str, created_at: datetime, key_id: str) -> bytes:
    """What a checkpoint's Ed25519 signature covers: the chain's head at that moment.

    A checkpoint says "the chain had at least ``seq`` records and the ``seq``-th hashed to
    this"; records deleted from the tail later are then missing from a signed statement.
    """
    return orjson.dumps(
        {
            "created_at": utc_text(created_at),
            "key_id": key_id,
            "record_hash": record_hash_,
            "seq": seq,
            "type": "mamori-audit-checkpoint",
        },
        option=orjson.OPT_SORT_KEYS,
    )
