"""Room on each page of the keyword index's PostgreSQL tables, for their updates to stay HOT.

Every ingested document updates a row of ``kb_kw_postings`` for each of its terms (the
append to the term's block) and a row of ``kb_kw_terms`` (the term's document frequency).
On full pages each update wrote its new row elsewhere and a new index entry beside the old
one, so until a vacuum a search read every dead version too: at 100,000 chunks the terms
table held 5.9 million dead rows (159 MB for 21,000 live ones), and the first searches after
an ingestion took 156 ms p95. With pages half free the new row is written on the same page
(a HOT update, with no new index entry) and the next update there prunes the dead one, with
or without autovacuum: 2 MB for the terms, 471 MB instead of 778 for the postings, and
43 ms p95 for those first searches, 29 ms in the benchmark's run (bench/retrieval.py's
latency corpus; postings were by then also read in the binary format, which accounts for
some 10 ms of the difference at p95).

The document frequency leaves the terms' primary key (an INCLUDE column is indexed, and an
update of an indexed column is never HOT); a search reads it from the row instead, 0.4 ms.

SQLite rewrites a row in place and has no such cost: nothing changes there. Existing pages
keep their fill until rewritten (``VACUUM FULL kb_kw_postings`` does it at once).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

FILLFACTOR = 50

_UPGRADE = (
    f"ALTER TABLE kb_kw_postings SET (fillfactor = {FILLFACTOR})",
    f"ALTER TABLE kb_kw_terms SET (fillfactor = {FILLFACTOR})",
    "ALTER TABLE kb_kw_terms DROP CONSTRAINT pk_kb_kw_terms",
    "ALTER TABLE kb_kw_terms ADD CONSTRAINT pk_kb_kw_terms PRIMARY KEY (term, kb_key)",
)
_DOWNGRADE = (
    "ALTER TABLE kb_kw_terms DROP CONSTRAINT pk_kb_kw_terms",
    "ALTER TABLE kb_kw_terms ADD CONSTRAINT pk_kb_kw_terms PRIMARY KEY (term, kb_key) INCLUDE (df)",
    "ALTER TABLE kb_kw_terms RESET (fillfactor)",
    "ALTER TABLE kb_kw_postings RESET (fillfactor)",
)


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in _UPGRADE:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in _DOWNGRADE:
            op.execute(statement)
