"""policy.classify — the turn's 機密性 from its label and what the detectors found.

It runs after guard.inbound, whose findings it reads, and before policy.route, which decides
where data of that class may go.
"""

from __future__ import annotations

from mamori.domain.classification import Classification
from mamori.domain.sovereignty import DataClass
from mamori.pipeline.turn import ChatTurn
from mamori.policy.classify import classify, raising_kinds
from mamori.policy.sovereignty import Policy

RULE_LABEL = "classify.label"
RULE_FINDINGS = "classify.findings"


class ClassifyStage:
    name = "policy.classify"

    def __init__(self, policy: Policy, installation_default: Classification) -> None:
        self.policy = policy
        self.installation_default = installation_default

    async def prepare(self, turn: ChatTurn) -> None:
        chosen = turn.conversation_label
        if chosen is None:
            chosen = self.installation_default
        # The groups' default is also the lowest label their members' turns carry, and a
        # knowledge base's class the lowest of every turn that answers from it.
        label = max(chosen, turn.principal.classification_floor())
        if turn.knowledge_label is not None:
            label = max(label, turn.knowledge_label)
        turn.label = label
        start = DataClass(label) | turn.inherited
        mapping = self.policy.finding_classes
        result = classify(start, turn.findings, mapping)
        turn.classification = result.classification
        turn.special_personal = result.special_personal
        if result == start:
            turn.decide(self.name, "label", RULE_LABEL, classification=label.name)
            return
        turn.decide(
            self.name,
            "raise",
            RULE_FINDINGS,
            label=label.name,
            classification=result.classification.name,
            special_personal=str(result.special_personal).lower(),
            kinds=",".join(raising_kinds(start, turn.findings, mapping)),
        )
