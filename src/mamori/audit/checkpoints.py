"""Making signed checkpoints: verify what is new since the last one, then sign the head.

A checkpoint is only ever made over records that were just verified, so the newest checkpoint
is also "the last verified point" the auditors' page shows. Each one is written three times:
to the database, to a JSON-lines file beside it (``audit-checkpoints.jsonl``, append-only), and
to the log, which a log collector usually ships elsewhere. Someone who rewrites the database
afterwards has to find and rewrite the other two copies as well, and cannot sign new ones
without the private key.
"""

from __future__ import annotations

import asyncio
import logging
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from mamori.audit.signing import Signer, trusted_keys
from mamori.audit.verify import (
    TrailCheck,
    checkpoint_line,
    checkpoint_problem,
    read_checkpoint_file,
    verify_trail,
)
from mamori.domain.audit_chain import checkpoint_payload
from mamori.store.database import Connection, Database
from mamori.store.repos.audit import chain_head, verify_chain
from mamori.store.repos.audit_checkpoints import (
    Checkpoint,
    Verification,
    add_checkpoint,
    add_verification,
    latest_checkpoint,
)

log = logging.getLogger(__name__)

CHECKPOINT_FILE = "audit-checkpoints.jsonl"


@dataclass(frozen=True, slots=True)
class CheckpointResult:
    verification: Verification
    checkpoint: Checkpoint | None  # None: nothing new to sign, or the verification failed


class Checkpointer:
    def __init__(
        self,
        db: Database,
        signer: Signer,
        *,
        file: Path | None,
        extra_keys: list[str] | None = None,
    ) -> None:
        self.db = db
        self.signer = signer
        self.file = file
        self.keys = trusted_keys(signer, extra_keys or [])
        self._verifying = asyncio.Lock()
        self._last_full: TrailCheck | None = None

    async def checkpoint(self) -> CheckpointResult:
        """Verify the records after the last checkpoint and sign the new head."""
        result = await self.db.write(self._checkpoint)
        if result.checkpoint is not None:
            self._witness(result.checkpoint)
        return result

    async def verify_all(self) -> TrailCheck:
        """The whole trail, every checkpoint included; recorded as a verification run.

        The long part runs on a read connection, so chat turns keep appending meanwhile; runs
        asked for at once (two auditors pressing "verify") share one pass.
        """
        if self._verifying.locked():
            async with self._verifying:
                pass
            if self._last_full is not None:
                return self._last_full
        async with self._verifying:
            external = self._external()
            check = await self.db.read(lambda c: verify_trail(c, self.keys, external=external))
            verification = Verification(
                at=datetime.now(UTC),
                start_seq=1,
                end_seq=None,
                checked=check.checked,
                first_bad=check.first_bad,
                problem=check.problem or None,
                checkpoint_id=check.last_checkpoint.id if check.last_checkpoint else None,
            )
            await self.db.write(lambda c: add_verification(c, verification))
            self._last_full = check
        if not check.ok:
            log.error("audit trail verification failed at record %s: %s", *_bad(check))
        return check

    def _external(self) -> list[Checkpoint]:
        return read_checkpoint_file(self.file) if self.file else []

    def _checkpoint(self, conn: Connection) -> CheckpointResult:
        now = datetime.now(UTC)
        found = chain_head(conn)
        head = found[0] if found else 0
        last = latest_checkpoint(conn)
        start = 1
        first_bad: int | None = None
        problem = ""
        if last is not None:
            start = last.seq + 1
            broken = checkpoint_problem(conn, last, self.keys, head)
            if broken is not None:
                first_bad, problem = broken
        checked = 0
        if first_bad is None:
            chain = verify_chain(conn, start=start)
            checked, first_bad, problem = chain.checked, chain.first_bad, chain.problem
        made: Checkpoint | None = None
        made_id: int | None = None
        if first_bad is None and found is not None and (last is None or head > last.seq):
            payload = checkpoint_payload(head, found[1], now, self.signer.key_id)
            made = Checkpoint(head, found[1], now, self.signer.key_id, self.signer.sign(payload))
            made_id = add_checkpoint(conn, made)
        verification = Verification(
            at=now,
            start_seq=start,
            end_seq=head,
            checked=checked,
            first_bad=first_bad,
            problem=problem or None,
            checkpoint_id=made_id,
        )
        add_verification(conn, verification)
        if first_bad is not None:
            log.error("audit trail verification failed at record %s: %s", first_bad, problem)
        return CheckpointResult(verification, made)

    def _witness(self, checkpoint: Checkpoint) -> None:
        line = checkpoint_line(checkpoint)
        log.info("audit checkpoint %s", line.decode())
        if self.file is None:
            return
        try:
            # O_APPEND: each line lands whole at the end, also with several processes writing.
            fd = os.open(self.file, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
            try:
                os.write(fd, line + b"\n")
                os.fsync(fd)
            finally:
                os.close(fd)
        except OSError:
            # The database copy and the log line exist; a full disk must not stop the server.
            log.exception("could not append the checkpoint to %s", self.file)

    async def keep_checkpointing(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            try:
                await self.checkpoint()
            except Exception:
                log.exception("could not make an audit checkpoint")


def _bad(check: TrailCheck) -> tuple[int | None, str]:
    return check.first_bad, check.problem
