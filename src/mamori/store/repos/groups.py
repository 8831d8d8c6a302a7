"""Groups (departments, teams) and who belongs to them."""

from __future__ import annotations

from typing import Any, get_args

from sqlalchemy import Connection, RowMapping, select

from mamori.domain.chat import ReasoningEffort
from mamori.domain.classification import Classification
from mamori.domain.principal import Group
from mamori.domain.reasoning import ReasoningDisplay
from mamori.store.repos._common import new_id, utcnow
from mamori.store.tables import group_members, groups, users

_EFFORTS: tuple[str, ...] = get_args(ReasoningEffort)


def _row_to_group(row: RowMapping | dict[str, Any]) -> Group:
    display = row["reasoning_display"]
    effort = row["max_reasoning_effort"]
    label = row.get("default_classification")
    return Group(
        id=row["id"],
        name=row["name"],
        display_name=row["display_name"],
        reasoning_display=ReasoningDisplay(display) if display else None,
        # A value this version does not know is ignored rather than failing every sign-in.
        max_reasoning_effort=effort if effort in _EFFORTS else None,
        default_classification=Classification(label) if label is not None else None,
    )


def create_group(
    conn: Connection,
    *,
    name: str,
    display_name: str | None = None,
    reasoning_display: ReasoningDisplay | None = None,
    max_reasoning_effort: ReasoningEffort | None = None,
    default_classification: Classification | None = None,
) -> Group:
    """Raises ``ConflictError`` (through ``Database``) when the name is taken."""
    values: dict[str, Any] = {
        "id": new_id(),
        "name": name,
        "display_name": display_name or name,
        "reasoning_display": reasoning_display.value if reasoning_display else None,
        "max_reasoning_effort": max_reasoning_effort,
        "default_classification": _int_or_none(default_classification),
        "created_at": utcnow(),
    }
    conn.execute(groups.insert().values(**values))
    return _row_to_group(values)


def update_group_policy(
    conn: Connection,
    group_id: str,
    *,
    reasoning_display: ReasoningDisplay | None,
    max_reasoning_effort: ReasoningEffort | None,
    default_classification: Classification | None = None,
) -> bool:
    result = conn.execute(
        groups.update()
        .where(groups.c.id == group_id)
        .values(
            reasoning_display=reasoning_display.value if reasoning_display else None,
            max_reasoning_effort=max_reasoning_effort,
            default_classification=_int_or_none(default_classification),
        )
    )
    return result.rowcount > 0


def _int_or_none(label: Classification | None) -> int | None:
    return None if label is None else int(label)


def get_group_by_name(conn: Connection, name: str) -> Group | None:
    row = conn.execute(select(groups).where(groups.c.name == name)).mappings().first()
    return _row_to_group(row) if row else None


def find_group(conn: Connection, name_or_id: str) -> Group | None:
    """A group by its id or, failing that, its name: what a person may type for either."""
    row = (
        conn.execute(select(groups).where(groups.c.id == name_or_id)).mappings().first()
        if len(name_or_id) == 36
        else None
    )
    return _row_to_group(row) if row else get_group_by_name(conn, name_or_id)


def list_groups(conn: Connection) -> list[Group]:
    return [
        _row_to_group(r) for r in conn.execute(select(groups).order_by(groups.c.name)).mappings()
    ]


def add_member(conn: Connection, group_id: str, user_id: str) -> bool:
    """False when the user already belongs to the group."""
    exists = conn.execute(
        select(group_members.c.user_id).where(
            group_members.c.group_id == group_id, group_members.c.user_id == user_id
        )
    ).first()
    if exists is not None:
        return False
    conn.execute(group_members.insert().values(group_id=group_id, user_id=user_id))
    return True


def remove_member(conn: Connection, group_id: str, user_id: str) -> bool:
    result = conn.execute(
        group_members.delete().where(
            group_members.c.group_id == group_id, group_members.c.user_id == user_id
        )
    )
    return result.rowcount > 0


def groups_of_user(conn: Connection, user_id: str) -> tuple[Group, ...]:
    query = (
        select(groups)
        .join(group_members, group_members.c.group_id == groups.c.id)
        .where(group_members.c.user_id == user_id)
        .order_by(groups.c.name)
    )
    return tuple(_row_to_group(r) for r in conn.execute(query).mappings())


def member_names(conn: Connection, group_id: str) -> list[str]:
    query = (
        select(users.c.username)
        .join(group_members, group_members.c.user_id == users.c.id)
        .where(group_members.c.group_id == group_id)
        .order_by(users.c.username)
    )
    return [r[0] for r in conn.execute(query)]
