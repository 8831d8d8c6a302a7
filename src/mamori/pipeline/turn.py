"""ChatTurn: the one object every stage of a chat turn reads and adds to."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from mamori.domain.audit import TurnStatus
from mamori.domain.chat import (
    ChatMessage,
    ContentDelta,
    Done,
    FinishReason,
    ReasoningDelta,
    ReasoningEffort,
    SamplingOptions,
    StreamEvent,
    ToolCallDelta,
    ToolChoice,
    ToolSpec,
    Usage,
)
from mamori.domain.classification import Classification
from mamori.domain.decision import Decision, Finding
from mamori.domain.documents import Citation
from mamori.domain.principal import Principal
from mamori.domain.reasoning import ReasoningDisplay
from mamori.domain.sovereignty import DataClass, PolicyDecision
from mamori.errors import MamoriError

if TYPE_CHECKING:
    from mamori.domain.endpoint import Endpoint
    from mamori.guard.answer_mask import AnswerMasker
    from mamori.guard.pseudonymise import Vault
    from mamori.policy.quota import Breach


@dataclass(slots=True)
class AnswerMaskState:
    """guard.outbound's per-turn state when the asker may not see personal data."""

    answer: AnswerMasker
    reasoning: AnswerMasker
    shown: list[str] = field(default_factory=list)


class ThinkingState:
    """Per-turn state of the reasoning display stage, which is shared by all turns."""

    __slots__ = ()


def new_turn_id() -> str:
    return uuid.uuid4().hex


@dataclass(slots=True)
class ChatTurn:
    """A request as it flows through the stages, and everything they learned about it.

    Stages only add: findings, decisions, the chosen endpoint, streamed output. The runner alone
    accumulates the answer, so every face sees the same record of what happened.
    """

    principal: Principal
    model: str
    messages: list[ChatMessage]
    sampling: SamplingOptions = field(default_factory=SamplingOptions)
    reasoning_effort: ReasoningEffort | None = None
    tools: tuple[ToolSpec, ...] = ()
    tool_choice: ToolChoice | None = None
    # What the person may see of the reasoning; decided by the policy.reasoning stage.
    reasoning_display: ReasoningDisplay = ReasoningDisplay.HIDDEN
    # Set for workspace turns, which are saved into a conversation; None for stateless /v1 calls.
    conversation_id: str | None = None
    # The label the person chose for the conversation; None for /v1 calls, which take their
    # groups' default (or the installation's).
    conversation_label: Classification | None = None
    # Knowledge bases to answer from (ids), already checked readable by the face; the
    # retrieve stage checks again in its query. Their highest class is the turn's lowest.
    knowledge_bases: tuple[str, ...] = ()
    knowledge_label: Classification | None = None
    # Regeneration: the exchange (its turn id) this turn answers again, and replaces once it
    # has answered; the replaced one stays in the audit trail.
    replaces_turn: str | None = None
    # The files attached to the question, (id, filename) each; their text is among messages.
    attachments: tuple[tuple[str, str], ...] = ()

    id: str = field(default_factory=new_turn_id)
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    started: float = field(default_factory=time.perf_counter)

    # Added by the stages before the model is called.
    # The label the turn started from, then its class after the detectors' findings.
    label: Classification = Classification.C1
    classification: Classification = Classification.C1
    special_personal: bool = False
    # The class of earlier turns this one continues (a tool loop's next request): at least
    # what they held, whatever label this request carries.
    inherited: DataClass = field(default_factory=DataClass)
    # The sovereignty policy's decision; set by policy.route.
    policy: PolicyDecision | None = None
    # The quota or rate limit that refused the turn; set by the quota stage.
    quota_breach: Breach | None = None
    # What the engine is sent when the guard masked or pseudonymised something (else the
    # messages themselves), and the placeholders to restore in the answer.
    upstream_messages: list[ChatMessage] | None = None
    vault: Vault | None = None
    # A token planted in the system prompt; seen in the answer, the prompt leaked.
    canary: str | None = None
    findings: list[Finding] = field(default_factory=list)
    decisions: list[Decision] = field(default_factory=list)
    # Chunks added to the request by rag.retrieve, by the name of the message holding each.
    retrieved: dict[str, Citation] = field(default_factory=dict)
    endpoint: Endpoint | None = None
    # Endpoints the route stage allows, best first; the gateway fails over along this list.
    candidates: list[Endpoint] = field(default_factory=list)

    # Accumulated from the stream.
    answer_parts: list[str] = field(default_factory=list)
    reasoning_parts: list[str] = field(default_factory=list)
    usage: Usage | None = None
    tool_call_ids: list[str] = field(default_factory=list)
    reasoning_summary: str | None = None
    reasoning_ms: int | None = None
    reasoning_tokens: int | None = None
    thinking: ThinkingState | None = None
    answer_mask: AnswerMaskState | None = None
    # Per-turn state of the guard.output stage (what its link guards hold back).
    output_state: object | None = None
    finish_reason: FinishReason | None = None
    first_event_at: float | None = None
    streamed_events: int = 0
    ended_at: float | None = None
    status: TurnStatus = TurnStatus.OK
    error: MamoriError | None = None

    def record(self, event: StreamEvent) -> None:
        """Accumulate one event of the model's output (called by the runner, once per event)."""
        if self.first_event_at is None:
            self.first_event_at = time.perf_counter()
        match event:
            case ContentDelta(text=text):
                self.answer_parts.append(text)
                self.streamed_events += 1
            case ReasoningDelta(text=text):
                self.reasoning_parts.append(text)
                self.streamed_events += 1
            case ToolCallDelta(id=call_id):
                self.streamed_events += 1
                if call_id is not None:
                    self.tool_call_ids.append(call_id)
            case Usage():
                self.usage = event
            case Done(finish_reason=reason):
                self.finish_reason = reason
            case _:
                pass

    @property
    def citations(self) -> list[Citation]:
        """The retrieved chunks the model was given, in citation order; a chunk the guard
        kept out is not among them."""
        sent = {m.name for m in self.messages if m.name}
        return [c for name, c in self.retrieved.items() if name in sent]

    @property
    def data_class(self) -> DataClass:
        return DataClass(self.classification, self.special_personal)

    @property
    def answer(self) -> str:
        return "".join(self.answer_parts)

    @property
    def reasoning(self) -> str:
        return "".join(self.reasoning_parts)

    @property
    def has_output(self) -> bool:
        return self.streamed_events > 0

    @property
    def user_text(self) -> str:
        """The newest user message: what this turn asks."""
        for message in reversed(self.messages):
            if message.role == "user":
                return message.content
        return ""

    @property
    def latency_ms(self) -> int:
        end = self.ended_at if self.ended_at is not None else time.perf_counter()
        return int((end - self.started) * 1000)

    @property
    def ttft_ms(self) -> int | None:
        if self.first_event_at is None:
            return None
        return int((self.first_event_at - self.started) * 1000)

    def decide(self, stage: str, action: str, rule_id: str, **detail: str) -> None:
        self.decisions.append(Decision(stage=stage, action=action, rule_id=rule_id, detail=detail))
