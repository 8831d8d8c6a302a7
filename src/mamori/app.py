"""create_app(settings): the only place where mamori's parts are wired together."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import sys
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import aiohttp
from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates

from mamori.accounts.admin import AccountAdministration
from mamori.accounts.credentials import generate_password
from mamori.accounts.service import AccountService
from mamori.audit.checkpoints import CHECKPOINT_FILE, Checkpointer
from mamori.audit.retention import Retention, keep_purging
from mamori.audit.signing import load_or_create_signer
from mamori.catalog import Catalog, configured_endpoints, local_endpoint
from mamori.datadir import ensure_data_dir, load_or_create_secret
from mamori.domain.endpoint import Endpoint
from mamori.domain.principal import Role
from mamori.gateway.breaker import BreakerPolicy
from mamori.gateway.egress import EgressControl
from mamori.gateway.health import keep_probing
from mamori.gateway.local_engine import LocalEngine, resolve_model_path
from mamori.gateway.openai_compat import backend_factory, make_http_client
from mamori.gateway.registry import EndpointRegistry
from mamori.guard.detector import Detector
from mamori.guard.registry import load_detectors
from mamori.knowledge import ingestor, keyword_search, parse_limits
from mamori.pipeline.factory import build_chat_pipeline
from mamori.pipeline.stages.metrics import TurnMetrics
from mamori.policy.quota import Limits
from mamori.policy.sovereignty import require_detectors_for
from mamori.policy.sovereignty_file import load_configured_policy
from mamori.rag.jobs import IngestionQueue
from mamori.rag.parsers.isolation import ParserPool
from mamori.rag.retriever import KnowledgeBaseRetriever, Retriever
from mamori.settings import Settings
from mamori.store import migrate
from mamori.store.database import Database
from mamori.store.repos import attachments as attachment_repo
from mamori.usecases.catalog import UseCaseCatalog
from mamori.web.errors import install_error_handlers
from mamori.web.middleware import BodySizeLimit, SecurityHeaders
from mamori.web.routers import (
    admin_api,
    admin_pages,
    answers_api,
    app_api,
    attachments_api,
    audit_api,
    audit_pages,
    endpoints_api,
    guard_api,
    health,
    kb_api,
    kb_pages,
    metrics,
    openai_api,
    pages,
    policy_api,
    responses_api,
    usage_api,
    usecase_api,
    usecase_pages,
)
from mamori.web.services import Services
from mamori.web.session import SessionCodec

log = logging.getLogger(__name__)

WEB_DIR = Path(__file__).parent / "web"
MAX_REQUEST_BYTES = 8 * 1024 * 1024
# An upload's body is the file itself; a little slack so the limit message is the parser's.
UPLOAD_OVERHEAD_BYTES = 64 * 1024


@dataclass
class Overrides:
    """Parts tests may swap in; production passes none."""

    http_client: aiohttp.ClientSession | None = None
    local_engine: LocalEngine | None = None
    extra_endpoints: list[Endpoint] = field(default_factory=list)
    # None: the built-in Japanese PII detectors (and any registered plugin's, see guard.registry).
    detectors: Sequence[Detector] | None = None
    # None: the knowledge bases' own retriever.
    retriever: Retriever | None = None


def create_app(settings: Settings, overrides: Overrides | None = None) -> FastAPI:
    parts = overrides or Overrides()

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with contextlib.AsyncExitStack() as stack:
            services = await _start(settings, parts, stack)
            app.state.services = services
            yield

    app = FastAPI(
        title="mamori",
        lifespan=lifespan,
        docs_url=None,
        redoc_url=None,
        openapi_url=None,
    )
    install_error_handlers(app)
    app.include_router(health.router)
    app.include_router(openai_api.router)
    app.include_router(responses_api.router)
    app.include_router(app_api.router)
    app.include_router(answers_api.router)
    app.include_router(attachments_api.router)
    app.include_router(audit_api.router)
    app.include_router(usage_api.router)
    app.include_router(policy_api.router)
    app.include_router(guard_api.router)
    app.include_router(kb_api.router)
    app.include_router(usecase_api.router)
    app.include_router(admin_api.router)
    app.include_router(endpoints_api.router)
    app.include_router(pages.router)
    app.include_router(audit_pages.router)
    app.include_router(kb_pages.router)
    app.include_router(usecase_pages.router)
    app.include_router(admin_pages.router)
    app.include_router(metrics.router)
    app.mount("/static", StaticFiles(directory=WEB_DIR / "static"), name="static")
    app.add_middleware(
        BodySizeLimit,
        max_bytes=MAX_REQUEST_BYTES,
        upload_max_bytes=settings.kb_max_file_bytes + UPLOAD_OVERHEAD_BYTES,
        is_upload=lambda method, path: (
            kb_api.is_upload(method, path) or attachments_api.is_upload(method, path)
        ),
    )
    app.add_middleware(SecurityHeaders)
    return app


async def _start(
    settings: Settings, parts: Overrides, stack: contextlib.AsyncExitStack
) -> Services:
    # First: a policy that does not validate stops startup before anything can be served.
    policy = load_configured_policy(settings.policy_file)
    data_dir = ensure_data_dir(settings.data_dir)
    secret = load_or_create_secret(
        data_dir, settings.session_secret.get_secret_value() if settings.session_secret else None
    )
    db = Database(settings.resolved_database_url)
    stack.callback(db.dispose)
    await asyncio.to_thread(migrate.upgrade, db)

    accounts = AccountService(db, session_hours=settings.session_hours)
    checkpointer = Checkpointer(
        db,
        load_or_create_signer(settings.resolved_signing_key),
        file=data_dir / CHECKPOINT_FILE,
        extra_keys=settings.audit_trusted_keys,
    )
    # Registered before the engine and the endpoints: on shutdown it runs after them, once the
    # last turn's record is written, so the newest records are under a signed checkpoint.
    stack.push_async_callback(_final_checkpoint, checkpointer)
    if settings.audit_checkpoint_interval > 0:
        signing = asyncio.create_task(
            checkpointer.keep_checkpointing(settings.audit_checkpoint_interval),
            name="audit-checkpoints",
        )
        stack.callback(signing.cancel)
    retention = Retention(settings.audit_keep_content, settings.audit_content_retention_days)
    purging = asyncio.create_task(keep_purging(db, retention), name="audit-retention")
    stack.callback(purging.cancel)
    if settings.bootstrap_admin:
        await _bootstrap_admin(accounts)

    egress = EgressControl()
    client = parts.http_client or make_http_client(settings.connect_timeout, egress)
    if parts.http_client is None:
        stack.push_async_callback(client.close)

    registry = EndpointRegistry(
        backend_factory(
            client,
            first_byte_timeout=settings.first_byte_timeout,
            idle_timeout=settings.idle_timeout,
        ),
        breaker_policy=BreakerPolicy(
            failure_threshold=settings.breaker_failure_threshold,
            cooldown=settings.breaker_cooldown,
            max_cooldown=settings.breaker_max_cooldown,
        ),
    )
    stack.push_async_callback(registry.aclose)

    fixed = [*configured_endpoints(settings), *parts.extra_endpoints]
    if settings.local_engine:
        engine = parts.local_engine or LocalEngine(
            model_path=resolve_model_path(settings.local_model),
            chat_format=settings.local_chat_format,
            context=settings.local_context,
            threads=settings.local_threads,
            startup_timeout=settings.local_startup_timeout,
            log_path=data_dir / "local-engine.log",
        )
        if parts.local_engine is None:
            log.info("starting the embedded engine")
            await engine.start()
            stack.push_async_callback(engine.stop)
        fixed.append(local_endpoint(engine))

    catalog = Catalog(settings, db, registry, fixed, egress)
    await catalog.refresh()
    refresher = asyncio.create_task(catalog.keep_fresh(), name="endpoint-refresh")
    stack.callback(refresher.cancel)
    housekeeping = asyncio.create_task(_housekeeping_hourly(accounts, db), name="housekeeping")
    stack.callback(housekeeping.cancel)
    if settings.health_check_interval > 0:
        prober = asyncio.create_task(
            keep_probing(
                registry,
                interval=settings.health_check_interval,
                timeout=settings.health_check_timeout,
            ),
            name="endpoint-health",
        )
        stack.callback(prober.cancel)

    # Loaded before the first turn: what a turn holds decides where it may go.
    detectors = parts.detectors
    if detectors is None:
        detectors = load_detectors()
        require_detectors_for(policy, detectors)
    # Knowledge bases: parsing in worker processes (started at the first file), indexing
    # by a background task; documents a stop interrupted are indexed again now.
    pool = stack.enter_context(ParserPool(parse_limits(settings)))
    kb_ingestor = ingestor(settings, db, pool)
    ingestion = IngestionQueue(kb_ingestor)
    await ingestion.start()
    stack.push_async_callback(ingestion.stop)
    search = keyword_search(db)
    retriever = parts.retriever or KnowledgeBaseRetriever(db, search)
    turn_metrics = TurnMetrics()
    # What exists after startup lives until shutdown: keep it out of every future collection.
    gc.freeze()
    return Services(
        settings=settings,
        db=db,
        accounts=accounts,
        registry=registry,
        policy=policy,
        egress=egress,
        pipeline=build_chat_pipeline(
            db=db,
            registry=registry,
            policy=policy,
            default_classification=settings.default_classification,
            detectors=detectors,
            retriever=retriever,
            retrieval_limit=settings.kb_chunks_per_turn,
            metrics=turn_metrics,
            reasoning_display=settings.reasoning_display,
            max_reasoning_effort=settings.max_reasoning_effort,
            summariser_model=settings.reasoning_summariser_model,
            guard_classifier_model=settings.guard_classifier_model,
            prompt_canary=settings.prompt_canary,
            link_allowlist=settings.link_allowlist,
            zone=settings.zone,
            retention=retention,
            user_quota=Limits(
                settings.quota_user_daily_tokens,
                settings.quota_user_monthly_tokens,
                settings.quota_user_requests_per_minute,
            ),
        ),
        checkpointer=checkpointer,
        sessions=SessionCodec(secret),
        templates=Jinja2Templates(directory=WEB_DIR / "templates"),
        metrics=turn_metrics,
        detectors=detectors,
        ingestor=kb_ingestor,
        ingestion=ingestion,
        search=search,
        use_cases=UseCaseCatalog(db),
        catalog=catalog,
        account_admin=AccountAdministration(accounts),
    )


async def _final_checkpoint(checkpointer: Checkpointer) -> None:
    try:
        await checkpointer.checkpoint()
    except Exception:
        log.exception("could not make the audit checkpoint at shutdown")


async def _housekeeping_hourly(accounts: AccountService, db: Database) -> None:
    """Expired sessions, and files uploaded for a question that was never sent."""
    while True:
        try:
            await accounts.purge_expired_sessions()
            day_ago = datetime.now(UTC) - timedelta(days=1)
            await db.write(attachment_repo.purge_unsent, day_ago)
        except Exception:
            log.exception("could not purge expired sessions or unsent attachments")
        await asyncio.sleep(3600)


async def _bootstrap_admin(accounts: AccountService) -> None:
    """On the very first start, create an admin with a random password and show it once.

    There is never an account with a default password; this one is printed to the operator's
    terminal only, not to the (possibly collected) log.
    """
    if await accounts.count_users() > 0:
        return
    password = generate_password()
    await accounts.create_user("admin", password, [Role.ADMIN])
    banner = (
        "\n"
        "  ==============================================================\n"
        "  mamori: 初回起動のため管理者アカウントを作成しました。\n"
        "          First start: an administrator account was created.\n"
        "\n"
        "    ユーザー名 / username : admin\n"
        f"    パスワード / password : {password}\n"
        "\n"
        "  このパスワードは今回しか表示されません。控えてください。\n"
        "  This password is shown only once. Write it down now.\n"
        "  ==============================================================\n"
    )
    print(banner, file=sys.stderr, flush=True)
