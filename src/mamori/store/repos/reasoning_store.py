"""Raw reasoning of API-face turns, and the tool calls that let a tool loop find it again.

Workspace turns keep their reasoning on the assistant message; API turns have no conversation,
so their chain of thought is kept here, for auditors and for the next step of a tool loop.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, select

from mamori.store.tables import audit_records, tool_call_turns, turn_reasoning


def save_turn_reasoning(
    conn: Connection,
    *,
    turn_id: str,
    user_id: str,
    model: str,
    reasoning: str,
    call_ids: Sequence[str],
    at: datetime,
) -> None:
    conn.execute(
        turn_reasoning.insert().values(
            turn_id=turn_id, user_id=user_id, model=model, reasoning=reasoning, created_at=at
        )
    )
    fresh = list(dict.fromkeys(call_ids))
    if not fresh:
        return
    # A call id an engine reuses later points at the newest turn that made it.
    conn.execute(
        tool_call_turns.delete().where(
            tool_call_turns.c.user_id == user_id, tool_call_turns.c.call_id.in_(fresh)
        )
    )
    conn.execute(
        tool_call_turns.insert(),
        [{"user_id": user_id, "call_id": c, "turn_id": turn_id} for c in fresh],
    )


def reasoning_for_calls(conn: Connection, user_id: str, call_ids: Sequence[str]) -> dict[str, str]:
    """Call id -> the raw reasoning of the turn that made the call; only this user's turns."""
    query = (
        select(tool_call_turns.c.call_id, turn_reasoning.c.reasoning)
        .join(turn_reasoning, turn_reasoning.c.turn_id == tool_call_turns.c.turn_id)
        .where(tool_call_turns.c.user_id == user_id, tool_call_turns.c.call_id.in_(call_ids))
    )
    return {row.call_id: row.reasoning for row in conn.execute(query)}


def turn_reasoning_text(conn: Connection, turn_id: str) -> str | None:
    row = conn.execute(
        select(turn_reasoning.c.reasoning).where(turn_reasoning.c.turn_id == turn_id)
    ).first()
    return row[0] if row else None


def classes_of_calls(
    conn: Connection, user_id: str, call_ids: Sequence[str]
) -> list[tuple[int, bool]]:
    """(classification, special_personal) of this user's earlier turns that made these calls.

    A tool loop's next request continues those turns, so it holds what they held.
    """
    query = (
        select(audit_records.c.classification, audit_records.c.special_personal)
        .join(tool_call_turns, tool_call_turns.c.turn_id == audit_records.c.turn_id)
        .where(tool_call_turns.c.user_id == user_id, tool_call_turns.c.call_id.in_(call_ids))
    )
    return [(int(row[0]), bool(row[1])) for row in conn.execute(query)]
