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


def canonical(seq: int, record: AuditRecord, prev_hash: str) -> bytes:
    """One stable byte string per record: sorted keys, UTC times to the microsecond, enum values.

    Fields added to ``AuditRecord`` later must default to None, so records written before
    keep their encoding (None fields are left out).
    """
    fields: dict[str, Any] = {"seq": seq, "prev_hash": prev_hash}
    for field in dataclasses.fields(AuditRecord):
        value = getattr(record, field.name)
        if value is None:
            continue
        if isinstance(value, datetime):
            value = value.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
        elif isinstance(value, Enum):
            value = value.value
        fields[field.name] = value
    return orjson.dumps(fields, option=orjson.OPT_SORT_KEYS)


def record_hash(seq: int, record: AuditRecord, prev_hash: str) -> str:
    return hashlib.sha256(canonical(seq, record, prev_hash)).hexdigest()
