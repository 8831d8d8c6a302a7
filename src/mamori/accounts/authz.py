"""The one administrator check, for services and routers alike."""

from __future__ import annotations

from mamori.domain.principal import Principal
from mamori.errors import ForbiddenError


def require_admin(principal: Principal, message: str) -> None:
    """Refuses (403) anyone but an administrator; ``message`` says what they may not do."""
    if not principal.is_admin:
        raise ForbiddenError(message)
