"""Who is acting: a signed-in user or an API key, with roles."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    ADMIN = "admin"
    USER = "user"
    AUDITOR = "auditor"


class Face(StrEnum):
    """Which door a request came through. Both run the same pipeline."""

    UI = "ui"
    API = "api"


@dataclass(frozen=True, slots=True)
class Principal:
    user_id: str
    username: str
    roles: frozenset[Role]
    face: Face
    api_key_id: str | None = None
    locale: str = "ja"

    @property
    def is_admin(self) -> bool:
        return Role.ADMIN in self.roles
