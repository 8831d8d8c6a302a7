"""Inference endpoints and the models users pick."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from urllib.parse import urlsplit, urlunsplit

from mamori.domain.chat import ReasoningEffort
from mamori.domain.classification import Classification
from mamori.domain.reasoning import ReasoningDisplay


class Residency(StrEnum):
    """Where an endpoint runs; the policy decides which classifications each may receive."""

    ONPREM = "onprem"
    DOMESTIC_CLOUD = "domestic_cloud"
    FOREIGN = "foreign"


@dataclass(frozen=True, slots=True)
class EndpointTrust:
    """What an endpoint may be trusted with, as the organisation has assessed it."""

    residency: Residency
    # The highest class it may receive (e.g. 機密性2 for an ISMAP-listed domestic service).
    max_classification: Classification
    trains_on_inputs: bool
    # 約款型外部サービス: generic terms of service rather than a negotiated contract.
    terms_of_service: bool
    # It may receive text only after pseudonymisation.
    approved_for_masked: bool = False


def assessment(
    residency: Residency,
    ceiling: Classification,
    *,
    trains_on_inputs: bool | None = None,
    terms_of_service: bool | None = None,
    approved_for_masked: bool = False,
) -> EndpointTrust:
    """An operator's assessment; a flag left unsaid is read the cautious way for a cloud
    endpoint (it trains on inputs, under generic terms) and the kind way on-prem."""
    cautious = residency is not Residency.ONPREM
    return EndpointTrust(
        residency,
        ceiling,
        cautious if trains_on_inputs is None else trains_on_inputs,
        cautious if terms_of_service is None else terms_of_service,
        approved_for_masked,
    )


def display_url(url: str) -> str:
    """``url`` without user information: a URL with credentials in it must not be shown."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{host}:{parts.port}" if parts.port else host
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def assumed_trust(residency: Residency) -> EndpointTrust:
    """The trust of an endpoint nobody has assessed: the most cautious reading of its residency.

    On-prem is the organisation's own hardware. A cloud endpoint is trusted with 機密性1 at
    most until an operator records its assessment, and a foreign one is assumed to be a 約款型
    service that trains on its inputs, so 要機密情報 never reaches it by omission.
    """
    if residency is Residency.ONPREM:
        return EndpointTrust(residency, Classification.C3, False, False)
    if residency is Residency.DOMESTIC_CLOUD:
        return EndpointTrust(residency, Classification.C1, False, False)
    return EndpointTrust(residency, Classification.C1, True, True)


class EndpointSource(StrEnum):
    CONFIG = "config"  # mamori.toml; read-only at run time
    CLI = "cli"  # stored in the database: `mamori endpoints add` or the admin console
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
    # As assessed by the organisation; None: nobody has, and ``assumed_trust`` applies.
    assessed_trust: EndpointTrust | None = None

    @property
    def trust(self) -> EndpointTrust:
        return self.assessed_trust or assumed_trust(self.residency)


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
