"""Inference endpoints and the models users pick."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from mamori.domain.chat import ReasoningEffort
from mamori.domain.reasoning import ReasoningDisplay


class Residency(StrEnum):
    """Where an endpoint runs; the policy decides which classifications each may receive."""

    ONPREM = "onprem"
    DOMESTIC_CLOUD = "domestic_cloud"
    FOREIGN = "foreign"


class EndpointSource(StrEnum):
    CONFIG = "config"  # mamori.toml; read-only at run time
    CLI = "cli"  # stored in the database by `mamori endpoints add`
    EMBEDDED = "embedded"  # the supervised local engine


@dataclass(frozen=True, slots=True)
class Endpoint:
    """One inference server URL with its engine dialect and residency."""

    name: str
    base_url: str  # ends in /v1 for OpenAI-compatible engines
    dialect: str
    residency: Residency
    # Model names users see, mapped to the name this engine knows the model by.
    models: dict[str, str] = field(default_factory=dict)
    # The name of an environment variable holding the upstream API key; never the key itself.
    api_key_env: str | None = None
    source: EndpointSource = EndpointSource.CONFIG


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """What a user picks. Served by one or more endpoints."""

    name: str
    display_name: str
    endpoints: tuple[str, ...]
    supports_reasoning_effort: bool = False
    default_reasoning_effort: ReasoningEffort | None = None
    # None: the installation default; a group setting overrides either.
    reasoning_display: ReasoningDisplay | None = None
    context_length: int | None = None
    # Used when a request sets no limit; a base model would otherwise ramble to the context end.
    max_output_tokens: int | None = None
    # Shown next to the model in the UI, e.g. that the embedded engine is a tiny demo model.
    description_ja: str = ""
    description_en: str = ""
    is_demo: bool = False
