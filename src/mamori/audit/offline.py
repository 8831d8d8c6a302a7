"""Verifying a JSON-lines export with nothing but the file and a trusted public key.

This is what an outside auditor runs (``mamori audit verify-export``); it touches no database
and follows only the rules the export's header states, so it doubles as their reference.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson

from mamori.audit.export import FORMAT
from mamori.audit.signing import PublicKey
from mamori.audit.verify import parse_checkpoint
from mamori.domain.audit_chain import checkpoint_payload

_NOT_HASHED = ("type", "record_hash", "content")


@dataclass(frozen=True, slots=True)
class ExportCheck:
    records: int
    checkpoints: int
    first_bad: int | None = None
    problem: str = ""
    # Keys named by the file itself and not given as trusted: their checkpoints prove nothing
    # until the fingerprint is compared with one obtained another way.
    untrusted_keys: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.first_bad is None


def verify_export(lines: Iterable[bytes], trusted: list[PublicKey] | None) -> ExportCheck:
    header: dict[str, Any] | None = None
    hashes: dict[int, str] = {}
    checkpoints = []
    expected_prev = ""
    expected_seq: int | None = None
    count = 0
    for number, raw in enumerate(lines, start=1):
        if not raw.strip():
            continue
        try:
            line = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return ExportCheck(count, 0, expected_seq or 0, f"line {number} is not JSON")
        kind = line.get("type")
        if header is None:
            if kind != "header" or line.get("format") != FORMAT:
                return ExportCheck(0, 0, 0, "the first line is not a mamori audit export header")
            header = line
            expected_prev = str(line["prev_hash"])
            expected_seq = int(line["from_seq"])
            continue
        if kind == "checkpoint":
            checkpoints.append(parse_checkpoint(line))
            continue
        if kind != "record":
            continue
        seq = line.get("seq")
        if seq != expected_seq:
            return ExportCheck(count, 0, expected_seq, f"record {expected_seq} is missing")
        if line.get("prev_hash") != expected_prev:
            return ExportCheck(count, 0, seq, "it does not link to the record before it")
        body = {k: v for k, v in line.items() if k not in _NOT_HASHED}
        digest = hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).hexdigest()
        if digest != line.get("record_hash"):
            return ExportCheck(count, 0, seq, "its content does not match its hash")
        hashes[seq] = digest
        expected_prev = digest
        expected_seq = seq + 1
        count += 1
    if header is None:
        return ExportCheck(0, 0, 0, "the file is empty")
    last = int(header["to_seq"])
    if expected_seq is not None and last >= int(header["from_seq"]) and expected_seq - 1 != last:
        return ExportCheck(count, 0, expected_seq, "the export ends before the range it names")
    listed = {
        PublicKey.from_hex(str(k["public_key"])).key_id: PublicKey.from_hex(str(k["public_key"]))
        for k in header.get("public_keys", [])
    }
    keys = {k.key_id: k for k in trusted} if trusted else listed
    untrusted = [] if trusted else sorted(listed)
    held = 0
    for checkpoint in checkpoints:
        key = keys.get(checkpoint.key_id)
        payload = checkpoint_payload(
            checkpoint.seq, checkpoint.record_hash, checkpoint.created_at, checkpoint.key_id
        )
        if key is None or not key.verifies(checkpoint.signature, payload):
            return ExportCheck(count, held, checkpoint.seq, "a checkpoint's signature fails")
        if hashes.get(checkpoint.seq) != checkpoint.record_hash:
            return ExportCheck(count, held, checkpoint.seq, "a record differs from its checkpoint")
        held += 1
    return ExportCheck(count, held, untrusted_keys=untrusted)
