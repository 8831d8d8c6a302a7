"""Finish stage: count each turn once for Prometheus — never per streamed chunk.

Label values come from configuration and enums only: a model name a client made up is counted
as ``other``, so no request can grow the number of series.
"""

from __future__ import annotations

from collections.abc import Callable

from mamori.metrics import Counter, Family, Histogram
from mamori.pipeline.stages.persist import usage_of
from mamori.pipeline.turn import ChatTurn

TURN_LABELS = ("model", "endpoint", "face", "status")
UNKNOWN_MODEL = "other"
NO_ENDPOINT = "none"
# Seconds. Prefill of a long gpt-oss prompt on a busy GPU takes tens of seconds.
TTFT_BUCKETS = (0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0)
DURATION_BUCKETS = (0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0)


class TurnMetrics:
    """The chat-turn metrics of one app; each app has its own, so tests do not collide."""

    def __init__(self) -> None:
        self.turns = Counter("mamori_chat_turns_total", "Chat turns by outcome.", TURN_LABELS)
        self.tokens = Counter(
            "mamori_chat_tokens_total",
            "Tokens of chat turns (estimated where the engine reported none).",
            (*TURN_LABELS, "kind"),
        )
        self.ttft = Histogram(
            "mamori_chat_ttft_seconds",
            "Time from the request to the first streamed event.",
            TURN_LABELS,
            TTFT_BUCKETS,
        )
        self.duration = Histogram(
            "mamori_chat_turn_duration_seconds",
            "Time from the request to the end of the turn.",
            TURN_LABELS,
            DURATION_BUCKETS,
        )

        # Rule ids come from the policy file, actions and classes from enums: bounded.
        self.policy = Counter(
            "mamori_policy_decisions_total",
            "Sovereignty decisions by action, rule and the turn's classification.",
            ("action", "rule", "classification"),
        )

    def families(self) -> list[Family]:
        return [self.turns, self.tokens, self.ttft, self.duration, self.policy]


class MetricsStage:
    name = "metrics"

    def __init__(self, metrics: TurnMetrics, is_known_model: Callable[[str], bool]) -> None:
        self.metrics = metrics
        self.is_known_model = is_known_model

    async def finish(self, turn: ChatTurn) -> None:
        model = turn.model if self.is_known_model(turn.model) else UNKNOWN_MODEL
        endpoint = turn.endpoint.name if turn.endpoint is not None else NO_ENDPOINT
        labels = (model, endpoint, turn.principal.face.value, turn.status.value)
        m = self.metrics
        m.turns.inc(labels)
        if turn.endpoint is not None and (turn.has_output or turn.usage is not None):
            tokens, _estimated = usage_of(turn)
            m.tokens.inc((*labels, "prompt"), tokens.prompt_tokens)
            m.tokens.inc((*labels, "completion"), tokens.completion_tokens)
        if turn.first_event_at is not None:
            m.ttft.observe(labels, turn.first_event_at - turn.started)
        m.duration.observe(labels, turn.latency_ms / 1000)
        if turn.policy is not None:
            decision = turn.policy
            level = decision.data_class.classification.name.lower()
            m.policy.inc((decision.action.value, decision.rule_id, level))
