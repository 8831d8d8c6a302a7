"""Token usage by month (mamori.audit.usage_report): everyone sees their own; administrators
and auditors see anyone's, by group or user, and download it as CSV."""

from __future__ import annotations

import io
from datetime import datetime
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter
from fastapi.responses import Response

from mamori.audit.usage_report import (
    Month,
    Subject,
    may_see_everyone,
    subject_named,
    summary,
    write_csv,
)
from mamori.domain.principal import Principal
from mamori.errors import ForbiddenError
from mamori.store.database import Connection
from mamori.store.repos.usage import GroupTotal, UsageTotal, group_totals, usage_totals
from mamori.web.deps import ServicesDep, SessionDep
from mamori.web.responses import Json
from mamori.web.services import Services

router = APIRouter(prefix="/api/usage")


def _month(text: str | None, services: Services) -> Month:
    if text:
        return Month.parse(text)
    return Month.of(datetime.now(services.settings.zone).date())


def _subject(
    conn: Connection, principal: Principal, group: str | None, user: str | None
) -> Subject:
    if not may_see_everyone(principal):
        if group or user:
            raise ForbiddenError("only administrators and auditors may see others' usage")
        return Subject(user_id=principal.user_id)
    return subject_named(conn, group=group, user=user)


def _rows(conn: Connection, month: Month, subject: Subject) -> list[UsageTotal]:
    return usage_totals(
        conn, month.first, month.last, user_id=subject.user_id, group_id=subject.group_id
    )


async def load_usage(
    services: Services,
    principal: Principal,
    month: str | None,
    group: str | None = None,
    user: str | None = None,
) -> dict[str, Any]:
    """The month's report as the page and the API show it: the person's own, or (for
    administrators and auditors) a group's, a user's or everyone's, with groups then."""
    span = _month(month, services)
    everyone = may_see_everyone(principal)

    def read(conn: Connection) -> tuple[list[UsageTotal], list[GroupTotal]]:
        subject = _subject(conn, principal, group, user)
        whole = everyone and subject == Subject()
        return _rows(conn, span, subject), group_totals(
            conn, span.first, span.last
        ) if whole else []

    rows, by_group = await services.db.read(read)
    return {**summary(span, rows, by_group), "everyone": everyone}


@router.get("")
async def usage_report(
    session: SessionDep,
    services: ServicesDep,
    month: str | None = None,
    group: str | None = None,
    user: str | None = None,
) -> Json:
    return Json(await load_usage(services, session.principal, month, group, user))


@router.get("/report.csv")
async def usage_csv(
    session: SessionDep,
    services: ServicesDep,
    month: str | None = None,
    group: str | None = None,
    user: str | None = None,
) -> Response:
    principal = session.principal
    span = _month(month, services)
    rows = await services.db.read(lambda c: _rows(c, span, _subject(c, principal, group, user)))
    text = io.StringIO()
    write_csv(text, rows)
    suffix = f"-{group or user}" if (group or user) else ""
    filename = f"mamori-usage-{span.name}{suffix}.csv"
    return Response(
        text.getvalue().encode("utf-8-sig"),  # the BOM lets Excel read Japanese names
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename, safe='')}"},
    )
