"""The one place where the order of the chat pipeline's stages is written down."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, tzinfo

from mamori.audit.retention import Retention
from mamori.domain.chat import ReasoningEffort
from mamori.domain.classification import Classification
from mamori.domain.reasoning import ReasoningDisplay
from mamori.gateway.registry import EndpointRegistry
from mamori.guard.detector import Detector
from mamori.pipeline.runner import ChatPipeline
from mamori.pipeline.side_request import SideModel
from mamori.pipeline.stages.classify import ClassifyStage
from mamori.pipeline.stages.guard import InboundGuardStage, OutboundGuardStage
from mamori.pipeline.stages.guard_classifier import GuardClassifierStage
from mamori.pipeline.stages.metrics import MetricsStage, TurnMetrics
from mamori.pipeline.stages.output_checks import OutputChecksStage
from mamori.pipeline.stages.persist import PersistStage
from mamori.pipeline.stages.quota import QuotaStage
from mamori.pipeline.stages.reasoning import ReasoningDisplayStage, ReasoningPolicyStage
from mamori.pipeline.stages.retrieve import CHUNKS_PER_TURN, RetrieveStage
from mamori.pipeline.stages.route import RouteStage
from mamori.pipeline.stages.stream import GatewayStreamStage
from mamori.pipeline.stages.transform import GuardTransformStage
from mamori.pipeline.summarise import Summariser
from mamori.policy.quota import Limits
from mamori.policy.sovereignty import Policy
from mamori.rag.retriever import Retriever
from mamori.store.database import Database


def build_chat_pipeline(
    *,
    db: Database,
    registry: EndpointRegistry,
    policy: Policy,
    default_classification: Classification = Classification.C1,
    detectors: Sequence[Detector] = (),
    retriever: Retriever | None = None,
    retrieval_limit: int = CHUNKS_PER_TURN,
    metrics: TurnMetrics | None = None,
    reasoning_display: ReasoningDisplay = ReasoningDisplay.HIDDEN,
    max_reasoning_effort: ReasoningEffort | None = None,
    summariser_model: str | None = None,
    guard_classifier_model: str | None = None,
    prompt_canary: bool = False,
    link_allowlist: Sequence[str] = (),
    zone: tzinfo = UTC,
    retention: Retention | None = None,
    user_quota: Limits | None = None,
) -> ChatPipeline:
    summariser = Summariser(registry, summariser_model, policy) if summariser_model else None
    return ChatPipeline(
        prepare=[
            # Before anything that could call upstream (a guard model, a summary): a turn
            # over its quota costs nothing but this check.
            QuotaStage(db, zone, user_quota or Limits()),
            # It may restore a tool loop's stored reasoning into the request, which
            # must then be scanned and classified like everything else that goes upstream.
            ReasoningPolicyStage(  # effort cap and what the asker may see of the reasoning
                registry,
                db,
                default_display=reasoning_display,
                installation_cap=max_reasoning_effort,
                summariser=summariser,
            ),
            # Retrieved chunks join the request before the guard: they are screened as
            # documents and classified like everything else that goes upstream.
            RetrieveStage(retriever, retrieval_limit),  # 3 rag.retrieve
            # Detection before classification: a turn's class is its label raised by what it
            # holds.
            InboundGuardStage(detectors, policy.injection),  # 2 guard.inbound
            ClassifyStage(policy, default_classification),  # 1 policy.classify
            *(
                [
                    GuardClassifierStage(
                        SideModel(registry, policy), guard_classifier_model, policy.injection
                    )
                ]
                if guard_classifier_model
                else []
            ),
            # Masking needs the detectors to find what to hide again in each text.
            RouteStage(registry, policy, can_mask=bool(detectors)),  # 4 policy.route
            # What the chosen endpoint may see; a canary in the system prompt, if asked for.
            GuardTransformStage(detectors, policy, canary=prompt_canary),
        ],
        source=GatewayStreamStage(registry),  # 5 gateway.stream
        on_event=[
            OutboundGuardStage(detectors, policy.answer_masked_groups),  # 6 guard.outbound
            # Links and images to hosts outside the allowlist; before the reasoning display,
            # which shows raw reasoning text to some askers.
            OutputChecksStage(link_allowlist),
            ReasoningDisplayStage(summariser),  # reasoning the asker may not see is replaced
        ],
        finish=[
            PersistStage(db, zone=zone, retention=retention),  # 7 persist + audit
            MetricsStage(metrics or TurnMetrics(), lambda m: registry.model(m) is not None),
        ],
    )


def _classifier(
    registry: EndpointRegistry, policy: Policy, model: str | None
) -> list[GuardClassifierStage]:
    if model is None:
        return []
    return [GuardClassifierStage(SideModel(registry, policy), model, policy.injection)]
