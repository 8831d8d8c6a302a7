"""Tampering with the audit trail as someone with the database owner's rights would.

The application cannot change or delete audit records: migration 0005's triggers refuse it.
An attacker who owns the database can drop those triggers first; the chain and the signed
checkpoints must catch whatever they do next.
"""

from __future__ import annotations

from sqlalchemy import Connection, text


def drop_append_only_guard(conn: Connection) -> None:
    if conn.dialect.name == "sqlite":
        conn.execute(text("DROP TRIGGER IF EXISTS audit_records_no_update"))
        conn.execute(text("DROP TRIGGER IF EXISTS audit_records_no_delete"))
    else:
        conn.execute(text("DROP TRIGGER IF EXISTS audit_records_append_only ON audit_records"))


def tamper(conn: Connection, *statements: str) -> None:
    drop_append_only_guard(conn)
    for statement in statements:
        conn.execute(text(statement))
