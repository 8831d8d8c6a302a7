"""Stage 1: policy.classify — the turn's 機密性 from its label and the detectors' findings."""

from __future__ import annotations

from mamori.pipeline.turn import ChatTurn
from mamori.policy.classify import Classifier


class ClassifyStage:
    name = "policy.classify"

    def __init__(self, classifier: Classifier) -> None:
        self.classifier = classifier

    async def prepare(self, turn: ChatTurn) -> None:
        turn.classification = self.classifier.classify(
            label=turn.conversation_label, findings=turn.findings
        )
