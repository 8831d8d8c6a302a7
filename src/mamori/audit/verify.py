"""Verifying the whole trail: the hash chain, and every signed checkpoint against it.

The chain alone catches edited, deleted and reordered records, but not records cut off the end:
a shorter chain is still a valid chain. A checkpoint is a signed statement that the chain once
reached record N with a given hash, so a chain that now stops before N, or whose record N
hashes differently, was cut or rewritten after the checkpoint.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import orjson

from mamori.audit.signing import PublicKey
from mamori.domain.audit_chain import checkpoint_payload, utc_text
from mamori.store.database import Connection
from mamori.store.repos.audit import ChainCheck, chain_head, record_at, verify_chain
from mamori.store.repos.audit_checkpoints import Checkpoint, list_checkpoints


@dataclass(frozen=True, slots=True)
class TrailCheck:
    checked: int  # records whose hash and link were recomputed
    checkpoints: int  # signed checkpoints that held
    first_bad: int | None = None
    problem: str = ""
    last_checkpoint: Checkpoint | None = None  # the newest checkpoint that held

    @property
    def ok(self) -> bool:
        return self.first_bad is None


def checkpoint_problem(
    conn: Connection, checkpoint: Checkpoint, keys: dict[str, PublicKey], head: int
) -> tuple[int, str] | None:
    """Why ``checkpoint`` does not hold for the chain as it is now, with the first bad record."""
    key = keys.get(checkpoint.key_id)
    payload = checkpoint_payload(
        checkpoint.seq, checkpoint.record_hash, checkpoint.created_at, checkpoint.key_id
    )
    if key is None:
        return checkpoint.seq, f"the checkpoint at {checkpoint.seq} is signed by an unknown key"
    if not key.verifies(checkpoint.signature, payload):
        return checkpoint.seq, f"the checkpoint at {checkpoint.seq} has an invalid signature"
    if head < checkpoint.seq:
        return head + 1, (
            f"records {head + 1}..{checkpoint.seq} are missing: a signed checkpoint says the "
            f"trail reached {checkpoint.seq} (truncated)"
        )
    found = record_at(conn, checkpoint.seq)
    if found is None:
        return checkpoint.seq, f"record {checkpoint.seq} is missing"
    if found[2] != checkpoint.record_hash:
        return checkpoint.seq, f"record {checkpoint.seq} is not the one its checkpoint signed"
    return None


def verify_trail(
    conn: Connection,
    keys: dict[str, PublicKey],
    *,
    start: int | None = None,
    end: int | None = None,
    external: Iterable[Checkpoint] = (),
) -> TrailCheck:
    """The chain over ``start..end`` plus every checkpoint in that range (from the database and
    from ``external`` copies, e.g. the checkpoint file), reporting the earliest problem."""
    # Checkpoints before the head: each covers records that existed when it was made, so one
    # read first can never lie beyond a head read after it, even while writers append (on
    # PostgreSQL every statement sees the newest commits). Read the other way round, a
    # checkpoint signed in between would look like truncation.
    stored = list_checkpoints(conn, start=start, end=end)
    found_head = chain_head(conn)
    head = found_head[0] if found_head else 0
    chain: ChainCheck = verify_chain(conn, start=start, end=end)
    seen: dict[tuple[int, str], Checkpoint] = {}
    for checkpoint in [*stored, *external]:
        in_range = (start is None or checkpoint.seq >= start) and (
            end is None or checkpoint.seq <= end
        )
        if in_range:
            seen.setdefault((checkpoint.seq, checkpoint.signature), checkpoint)
    problems: list[tuple[int, str]] = []
    if not chain.ok:
        assert chain.first_bad is not None
        problems.append((chain.first_bad, chain.problem))
    held = 0
    last: Checkpoint | None = None
    for checkpoint in sorted(seen.values(), key=lambda c: (c.seq, c.created_at)):
        problem = checkpoint_problem(conn, checkpoint, keys, head)
        if problem is None:
            held += 1
            last = checkpoint
        else:
            problems.append(problem)
    if problems:
        first_bad, why = min(problems)
        return TrailCheck(chain.checked, held, first_bad, why, last)
    return TrailCheck(chain.checked, held, last_checkpoint=last)


def checkpoint_line(checkpoint: Checkpoint) -> bytes:
    """One checkpoint as a JSON line: the file beside the database and exports carry these."""
    return orjson.dumps(
        {
            "type": "checkpoint",
            "seq": checkpoint.seq,
            "record_hash": checkpoint.record_hash,
            "created_at": utc_text(checkpoint.created_at),
            "key_id": checkpoint.key_id,
            "signature": checkpoint.signature,
        }
    )


def parse_checkpoint(line: dict[str, object]) -> Checkpoint:
    """A checkpoint from ``checkpoint_line``'s JSON; ValueError (or KeyError) when malformed."""
    created = datetime.strptime(str(line["created_at"]), "%Y-%m-%dT%H:%M:%S.%fZ")
    seq = line["seq"]
    if not isinstance(seq, int):
        raise ValueError("seq must be a number")
    return Checkpoint(
        seq=seq,
        record_hash=str(line["record_hash"]),
        created_at=created.replace(tzinfo=UTC),
        key_id=str(line["key_id"]),
        signature=str(line["signature"]),
    )


def read_checkpoint_file(path: Path) -> list[Checkpoint]:
    """The checkpoints kept in the file beside the database; a torn last line is skipped."""
    if not path.exists():
        return []
    found = []
    for raw in path.read_bytes().splitlines():
        try:
            found.append(parse_checkpoint(orjson.loads(raw)))
        except (ValueError, KeyError, orjson.JSONDecodeError):
            continue
    return found
