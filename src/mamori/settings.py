"""Settings: ``mamori.toml`` plus ``MAMORI_*`` environment variables. Nothing here touches disk.

Precedence, highest first: keyword arguments, environment, the TOML file, the defaults below.
The TOML file is ``$MAMORI_CONFIG`` if set, else ``./mamori.toml`` when it exists.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, SecretStr, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from mamori.domain.chat import ReasoningEffort
from mamori.domain.classification import Classification
from mamori.domain.endpoint import EndpointTrust, Residency, assessment
from mamori.domain.reasoning import ReasoningDisplay
from mamori.errors import ConfigError


def default_data_dir() -> Path:
    xdg = os.environ.get("XDG_DATA_HOME")
    base = Path(xdg) if xdg else Path.home() / ".local" / "share"
    return base / "mamori"


def _classification(value: Any) -> Any:
    return Classification.parse(value) if isinstance(value, str) else value


# 公開, 機密性1-3 or public, c1-c3 in the file; an int works too.
ClassificationName = Annotated[Classification, BeforeValidator(_classification)]


class EndpointSettings(BaseModel):
    """One ``[[endpoints]]`` table in mamori.toml."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,62}$")
    url: str
    dialect: str = "openai"
    residency: Residency
    # Either a list of model names (served under the same name) or a table name -> upstream name.
    models: list[str] | dict[str, str]
    api_key_env: str | None = None
    # The organisation's assessment. Without max_classification the endpoint is unassessed
    # and gets its residency's cautious default (see ``assumed_trust``); the flags left out
    # are read the cautious way: a cloud endpoint trains on inputs and is 約款型.
    max_classification: ClassificationName | None = None
    trains_on_inputs: bool | None = None
    terms_of_service: bool | None = None
    approved_for_masked: bool = False

    def model_map(self) -> dict[str, str]:
        if isinstance(self.models, dict):
            return dict(self.models)
        return {m: m for m in self.models}

    def assessed_trust(self) -> EndpointTrust | None:
        if self.max_classification is None:
            return None
        return assessment(
            self.residency,
            self.max_classification,
            trains_on_inputs=self.trains_on_inputs,
            terms_of_service=self.terms_of_service,
            approved_for_masked=self.approved_for_masked,
        )


class ModelSettings(BaseModel):
    """One ``[models.NAME]`` table: how a model is presented and its defaults."""

    model_config = ConfigDict(extra="forbid")

    display_name: str | None = None
    supports_reasoning_effort: bool = False
    default_reasoning_effort: ReasoningEffort | None = None
    # hidden | summary | raw; unset: the installation's ``reasoning_display``.
    reasoning_display: ReasoningDisplay | None = None
    context_length: int | None = Field(default=None, gt=0)
    max_output_tokens: int | None = Field(default=None, gt=0)
    description_ja: str = ""
    description_en: str = ""


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="MAMORI_",
        extra="forbid",
        env_nested_delimiter="__",
    )

    data_dir: Path = Field(default_factory=default_data_dir)
    database_url: str | None = None  # default: SQLite file in data_dir
    host: str = "127.0.0.1"
    port: int = Field(default=8080, ge=0, le=65535)
    # Normally generated on first run into data_dir/session_secret. Setting it is for clusters.
    session_secret: SecretStr | None = None
    session_hours: int = Field(default=12, gt=0)
    # Cookies are Secure whenever the request came over TLS (directly, or through a trusted
    # proxy's X-Forwarded-Proto); this forces it for a TLS proxy uvicorn does not trust.
    secure_cookies: bool = False

    # The embedded llama.cpp engine.
    local_engine: bool = True
    local_model: Path | None = None  # a GGUF; default: the packaged Gemma 3 270M
    local_chat_format: str = "gemma"
    local_context: int = Field(default=4096, gt=0)
    local_threads: int | None = None
    local_startup_timeout: float = Field(default=120.0, gt=0)

    # Create an admin with a generated password, printed once, when no account exists yet.
    bootstrap_admin: bool = True

    # Upstream timeouts in seconds.
    connect_timeout: float = Field(default=5.0, gt=0)
    first_byte_timeout: float = Field(default=120.0, gt=0)
    idle_timeout: float = Field(default=120.0, gt=0)

    # Reasoning: what people see of it unless their group or the model says otherwise, the
    # model that writes summaries (at low effort) for the "summary" display, and the highest
    # effort anyone may use unless their group allows more.
    reasoning_display: ReasoningDisplay = ReasoningDisplay.HIDDEN
    reasoning_summariser_model: str | None = None
    max_reasoning_effort: ReasoningEffort | None = None
    # Active health checks: every endpoint's model list, this often (seconds; 0: off).
    health_check_interval: float = Field(default=10.0, ge=0)
    health_check_timeout: float = Field(default=3.0, gt=0)
    # Circuit breaker: after this many consecutive failures an endpoint gets no turns for the
    # cooldown, doubled on each repeated trip up to the cap (seconds).
    breaker_failure_threshold: int = Field(default=3, ge=1)
    breaker_cooldown: float = Field(default=30.0, gt=0)
    breaker_max_cooldown: float = Field(default=300.0, gt=0)

    # Plant a canary token in every system prompt and redact it (and record the leak) when an
    # answer repeats it. Off by default: it changes what API clients' prompts say and costs
    # about 60 tokens a request.
    prompt_canary: bool = False
    # An OpenAI-compatible guard model, served by a configured endpoint, that judges each
    # turn's newest message, documents and tool results for injected instructions, in
    # addition to the built-in patterns. Its requests follow the sovereignty policy.
    guard_classifier_model: str | None = None
    # The sovereignty policy (TOML); unset: the shipped default. A file that does not validate
    # stops startup: there is no "allow all" to fall back to.
    policy_file: Path | None = None
    # The label of a turn whose conversation and groups set none (every /v1 call of a user
    # in no group, a new conversation).
    default_classification: ClassificationName = Classification.C1

    # Hosts (and their subdomains) that links and images in answers may point to: usually the
    # organisation's own intranet. Any other host is taken out of answers by guard.output, since
    # an image URL chosen by a manipulated model leaks data the moment it is displayed.
    link_allowlist: list[str] = Field(default_factory=list)

    # The audit trail. What each turn said (request, answer, raw reasoning) is kept beside its
    # chained record for this many days, by the turn's class (0: not kept at all); afterwards
    # only the hashes in the chain remain. Checkpoints of the chain's head are signed with the
    # Ed25519 key at ``audit_signing_key`` (default: created in data_dir) this often (seconds;
    # 0: only at shutdown and on request). ``audit_trusted_keys``: public keys (hex) of
    # earlier signing keys whose checkpoints still count.
    audit_keep_content: bool = True
    audit_content_retention_days: dict[ClassificationName, Annotated[int, Field(ge=0)]] = Field(
        default_factory=lambda: {
            Classification.PUBLIC: 365,
            Classification.C1: 365,
            Classification.C2: 180,
            Classification.C3: 90,
        }
    )
    audit_signing_key: Path | None = None
    audit_trusted_keys: list[str] = Field(default_factory=list)
    audit_checkpoint_interval: float = Field(default=300.0, ge=0)

    # The organisation's clock: usage days and quota resets follow its midnight.
    timezone: str = "Asia/Tokyo"
    # Limits for every user who has none of their own (None: no limit). Per-user and per-group
    # limits are set with ``mamori users quota`` and ``mamori groups quota``.
    quota_user_daily_tokens: int | None = Field(default=None, ge=0)
    quota_user_monthly_tokens: int | None = Field(default=None, ge=0)
    quota_user_requests_per_minute: int | None = Field(default=None, ge=0)

    # Knowledge bases. Files above this size are refused before they are read; a parse that
    # takes longer than the timeout (seconds) is stopped, so one hostile file cannot hold up
    # a batch. Each turn adds at most ``kb_chunks_per_turn`` retrieved chunks.
    kb_max_file_bytes: int = Field(default=50 * 1024 * 1024, gt=0)
    # The text of one file attached to a question is cut here (about 20 pages of Japanese):
    # more would crowd the question out of the model's context.
    attachment_max_chars: int = Field(default=40_000, gt=0)
    kb_parse_timeout: float = Field(default=60.0, gt=0)
    kb_chunks_per_turn: int = Field(default=5, ge=1, le=20)

    endpoints: list[EndpointSettings] = Field(default_factory=list)
    models: dict[str, ModelSettings] = Field(default_factory=dict)

    log_level: str = "INFO"
    # JSON lines for log collectors; None: JSON unless stderr is a terminal (a person reading).
    log_json: bool | None = None

    @field_validator("database_url")
    @classmethod
    def _normalise_database_url(cls, value: str | None) -> str | None:
        if value is None:
            return None
        # People paste libpq URLs; psycopg 3 is the driver we ship.
        for prefix in ("postgres://", "postgresql://"):
            if value.startswith(prefix):
                return "postgresql+psycopg://" + value[len(prefix) :]
        return value

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r} (e.g. Asia/Tokyo)") from exc
        return value

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def resolved_signing_key(self) -> Path:
        return self.audit_signing_key or self.data_dir / "audit-signing.key"

    @property
    def knowledge_dir(self) -> Path:
        """Where the original files of knowledge-base documents are kept."""
        return self.data_dir / "knowledge"

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.data_dir / 'mamori.db'}"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml_path = config_file_path()
        sources: list[PydanticBaseSettingsSource] = [init_settings, env_settings]
        if toml_path is not None:
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=toml_path))
        return tuple(sources)


def config_file_path() -> Path | None:
    explicit = os.environ.get("MAMORI_CONFIG")
    if explicit:
        path = Path(explicit)
        if not path.is_file():
            # Silently running on defaults would hide the operator's whole configuration.
            raise ConfigError(f"MAMORI_CONFIG names {path}, which is not a readable file")
        return path
    candidate = Path("mamori.toml")
    return candidate if candidate.is_file() else None


def load_settings(**overrides: Any) -> Settings:
    return Settings(**overrides)
