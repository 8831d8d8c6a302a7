"""How domain objects look in the workspace's JSON API."""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

from mamori.domain.classification import Classification
from mamori.domain.conversation import Conversation, StoredMessage
from mamori.domain.endpoint import ModelInfo, Residency
from mamori.domain.reasoning import ReasoningDisplay
from mamori.domain.sovereignty import DataClass, PolicyAction, PolicyDecision
from mamori.gateway.registry import EndpointRegistry
from mamori.guard.answer_mask import mask_stored
from mamori.guard.detector import Detector
from mamori.policy.sovereignty import Policy, decide
from mamori.web.knowledge_json import citation_json

# Most restrictive residency first: a model's badge shows the furthest place its data may go.
_RESIDENCY_ORDER = [Residency.FOREIGN, Residency.DOMESTIC_CLOUD, Residency.ONPREM]


def conversation_json(c: Conversation) -> dict[str, object]:
    return {
        "id": c.id,
        "title": c.title,
        "model": c.model,
        "classification": int(c.classification),
        "knowledge_bases": list(c.knowledge_bases),
        "use_case": c.use_case,
        "created_at": c.created_at.isoformat(),
        "updated_at": c.updated_at.isoformat(),
    }


def message_json(m: StoredMessage, display: ReasoningDisplay) -> dict[str, object]:
    """``display`` is what the viewer may see of this message's reasoning (policy.reasoning):
    the raw text only under "raw"; otherwise its summary, if one was written, and how long and
    how much the model thought."""
    raw = display is ReasoningDisplay.RAW
    summarised = display is not ReasoningDisplay.HIDDEN
    return {
        "id": m.id,
        "role": m.role,
        "content": m.content,
        "reasoning": m.reasoning if raw else None,
        "reasoning_summary": m.reasoning_summary if summarised else None,
        "reasoning_ms": m.reasoning_ms,
        "reasoning_tokens": m.reasoning_tokens,
        "status": m.status.value,
        "model": m.model,
        "endpoint": m.endpoint,
        "reasoning_effort": m.reasoning_effort,
        "error_code": m.error_code,
        "citations": [citation_json(c) for c in m.citations],
        "turn_id": m.turn_id,
        "attachments": [{"id": i, "filename": name} for i, name in m.attachments],
        "reviewed_by": m.reviewed_by,
        "reviewed_at": m.reviewed_at.isoformat() if m.reviewed_at else None,
        "created_at": m.created_at.isoformat(),
    }


def model_json(
    model: ModelInfo, registry: EndpointRegistry, lang: str, policy: Policy
) -> dict[str, object]:
    residencies = sorted(
        {e.residency for name in model.endpoints if (e := registry.endpoint(name)) is not None},
        key=_RESIDENCY_ORDER.index,
    )
    return {
        "name": model.name,
        "display_name": model.display_name,
        "residency": residencies[0].value if residencies else None,
        "residencies": [r.value for r in residencies],
        "supports_reasoning_effort": model.supports_reasoning_effort,
        "default_reasoning_effort": model.default_reasoning_effort,
        "is_demo": model.is_demo,
        "description": model.description_en if lang == "en" else model.description_ja,
        # What the policy decides for each label, so the picker can grey out the models the
        # conversation's label forbids and say why. Detection may still raise a turn's class.
        "policy": {
            str(int(level)): _policy_json(
                decide(policy, DataClass(level), model.name, registry.endpoints()), lang
            )
            for level in Classification
        },
    }


def _policy_json(decision: PolicyDecision, lang: str) -> dict[str, object]:
    usable = decision.action is not PolicyAction.DENY
    return {
        "action": decision.action.value,
        "rule_id": decision.rule_id,
        "usable": usable,
        "message": "" if usable else decision.message(lang),
    }


def masked_history(rows: list[StoredMessage], detectors: Sequence[Detector]) -> list[StoredMessage]:
    """Stored answers as a person who may not see personal data reads them.

    Answers are stored masked for them already; this also covers answers written before they
    joined such a group, and one whose stream they left before it could be masked.
    """
    own = [m.content for m in rows if m.role == "user"]
    return [
        dataclasses.replace(
            m,
            content=mask_stored(detectors, m.content, own),
            reasoning=None,
            reasoning_summary=None,
        )
        if m.role == "assistant"
        else m
        for m in rows
    ]
