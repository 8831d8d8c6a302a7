"""Administrators' use cases and their changes to the built-in ones, as stored rows.

The rows hold the definition as JSON text; ``mamori.usecases.catalog`` parses and validates
it, and merges the rows with the built-in use cases.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, select

from mamori.store.repos._common import utcnow
from mamori.store.tables import use_cases


@dataclass(frozen=True, slots=True)
class UseCaseRow:
    id: str
    # None: a built-in use case that is only hidden (or shown again), not edited.
    definition: str | None
    hidden: bool
    updated_at: datetime
    updated_by: str


def list_rows(conn: Connection) -> list[UseCaseRow]:
    rows = conn.execute(select(use_cases).order_by(use_cases.c.id)).mappings()
    return [
        UseCaseRow(
            id=r["id"],
            definition=r["definition"],
            hidden=bool(r["hidden"]),
            updated_at=r["updated_at"],
            updated_by=r["updated_by"],
        )
        for r in rows
    ]


def save_row(
    conn: Connection,
    use_case_id: str,
    *,
    definition: str | None,
    hidden: bool,
    updated_by: str,
    keep_definition: bool = False,
) -> None:
    """Insert or replace. ``keep_definition`` changes only whether it is hidden."""
    values: dict[str, object] = {"hidden": hidden, "updated_at": utcnow(), "updated_by": updated_by}
    if not keep_definition:
        values["definition"] = definition
    done = conn.execute(
        use_cases.update().where(use_cases.c.id == use_case_id).values(**values)
    ).rowcount
    if not done:  # a new row has no definition to keep
        conn.execute(
            use_cases.insert().values({**values, "id": use_case_id, "definition": definition})
        )


def delete_row(conn: Connection, use_case_id: str) -> bool:
    return conn.execute(use_cases.delete().where(use_cases.c.id == use_case_id)).rowcount > 0
