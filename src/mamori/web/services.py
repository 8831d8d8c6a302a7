"""The parts a request handler may use, built once by ``create_app``."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from fastapi.templating import Jinja2Templates

from mamori.accounts.admin import AccountAdministration
from mamori.accounts.service import AccountService
from mamori.audit.checkpoints import Checkpointer
from mamori.catalog import Catalog
from mamori.gateway.egress import EgressControl
from mamori.gateway.registry import EndpointRegistry
from mamori.guard.detector import Detector
from mamori.pipeline.runner import ChatPipeline
from mamori.pipeline.stages.metrics import TurnMetrics
from mamori.policy.sovereignty import Policy
from mamori.rag.ingest import Ingestor
from mamori.rag.jobs import IngestionQueue
from mamori.rag.search import KeywordSearch
from mamori.settings import Settings
from mamori.store.database import Database
from mamori.usecases.catalog import UseCaseCatalog
from mamori.web.session import SessionCodec
from mamori.web.throttle import LoginThrottle


@dataclass(slots=True)
class Services:
    settings: Settings
    db: Database
    accounts: AccountService
    registry: EndpointRegistry
    pipeline: ChatPipeline
    sessions: SessionCodec
    templates: Jinja2Templates
    policy: Policy
    egress: EgressControl
    checkpointer: Checkpointer
    ingestor: Ingestor
    ingestion: IngestionQueue
    search: KeywordSearch
    use_cases: UseCaseCatalog
    # Endpoints and models: re-read at once after the console changes them.
    catalog: Catalog
    account_admin: AccountAdministration
    login_throttle: LoginThrottle = field(default_factory=LoginThrottle)
    metrics: TurnMetrics = field(default_factory=TurnMetrics)
    # The detectors the pipeline uses, loaded once: the admins' "check this text" box must judge
    # exactly as a turn is judged, without reloading the plugins per request.
    detectors: Sequence[Detector] = ()
