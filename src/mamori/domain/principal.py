"""Who is acting: a signed-in user or an API key, with roles and groups."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from mamori.domain.chat import ReasoningEffort
from mamori.domain.classification import Classification
from mamori.domain.reasoning import ReasoningDisplay


class Role(StrEnum):
    ADMIN = "admin"
    USER = "user"
    AUDITOR = "auditor"


class Face(StrEnum):
    """Which door a request came through. Both run the same pipeline."""

    UI = "ui"
    API = "api"


@dataclass(frozen=True, slots=True)
class Group:
    """A department or team. Its settings apply to every member; unset means "no opinion"."""

    id: str
    name: str
    display_name: str
    reasoning_display: ReasoningDisplay | None = None
    # The most reasoning effort members may use; high effort costs GPU time.
    max_reasoning_effort: ReasoningEffort | None = None
    # The label members' conversations and API turns start at, and the lowest they may carry:
    # a 税務課 handles 機密性2, whatever a member forgets to choose or chooses lower.
    default_classification: Classification | None = None


@dataclass(frozen=True, slots=True)
class Principal:
    user_id: str
    username: str
    roles: frozenset[Role]
    face: Face
    api_key_id: str | None = None
    locale: str = "ja"
    groups: tuple[Group, ...] = ()
    # An API key scoped to some models may use only those (None: no scope of its own).
    allowed_models: frozenset[str] | None = None

    def may_use_model(self, model: str) -> bool:
        return self.allowed_models is None or model in self.allowed_models

    @property
    def is_admin(self) -> bool:
        return Role.ADMIN in self.roles

    @property
    def is_auditor(self) -> bool:
        return Role.AUDITOR in self.roles

    def classification_floor(self) -> Classification:
        """The lowest label this person's turns may carry: the highest of their groups'
        defaults. A 税務課 member's work is 機密性2 whatever a conversation or request says."""
        labels = [
            g.default_classification for g in self.groups if g.default_classification is not None
        ]
        return max(labels, default=Classification.PUBLIC)

    def default_classification(self, installation: Classification) -> Classification:
        """The label of a turn or conversation that names none: the installation's default,
        raised to the groups' floor."""
        return max(installation, self.classification_floor())
