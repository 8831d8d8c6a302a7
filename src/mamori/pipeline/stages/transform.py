"""guard.transform — what the engine receives: findings blocked, masked or pseudonymised.

Runs after policy.route, because where the turn goes decides what must be hidden from it:
an endpoint approved only for masked text gets every personal datum as a placeholder. The
policy file's ``[actions]`` can block, mask or pseudonymise a kind wherever the turn goes.
The person's own messages are kept as written; only the copy sent upstream changes, and the
gateway restores the placeholders in the answer.
"""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Callable, Sequence

from mamori.domain.chat import ChatMessage, ToolCall
from mamori.domain.guard import GuardAction
from mamori.errors import PolicyDeniedError
from mamori.guard.detector import Detector
from mamori.guard.output.canary import new_canary, with_canary
from mamori.guard.pseudonymise import Vault, transform
from mamori.guard.resolve import detect_all
from mamori.pipeline.turn import ChatTurn
from mamori.policy.sovereignty import Policy

RULE_BLOCK = "guard.block"
RULE_TRANSFORM = "guard.transform"


class PiiBlockedError(PolicyDeniedError):
    code = "pii_blocked"


class GuardTransformStage:
    name = "guard.transform"

    def __init__(
        self, detectors: Sequence[Detector], policy: Policy, *, canary: bool = False
    ) -> None:
        self.detectors = tuple(detectors)
        self.policy = policy
        self.canary = canary

    async def prepare(self, turn: ChatTurn) -> None:
        self._hide(turn)
        if self.canary:
            _plant_canary(turn)

    def _hide(self, turn: ChatTurn) -> None:
        if turn.policy is None or not self.detectors:
            return
        actions = self.policy.guard_actions(turn.policy)
        if all(a is GuardAction.FLAG for a in actions.values()):
            return
        found = Counter(f.kind for f in turn.findings)
        blocked = sorted(k for k in found if actions.get(k) is GuardAction.BLOCK)
        if blocked:
            turn.decide(self.name, "block", RULE_BLOCK, kinds=",".join(blocked))
            raise PiiBlockedError(_blocked_message(blocked, turn.principal.locale))
        if not any(actions.get(k) in _TRANSFORMING for k in found):
            return
        vault = Vault()
        # Two passes: first every text is scanned (numbering placeholders in order of first
        # appearance), then every known value is hidden in every text, also where no
        # detector would see it again.
        findings = {
            text: detect_all(self.detectors, text)
            for message in turn.messages
            for text in _texts(message)
        }
        for text, found_here in findings.items():
            transform(text, found_here, actions, vault)
        turn.upstream_messages = [
            _rewrite(m, lambda t: vault.hide_known(transform(t, findings[t], actions, vault)))
            for m in turn.messages
        ]
        turn.vault = vault
        changed = sorted(k for k in found if actions.get(k) in _TRANSFORMING)
        # Kinds and counts only: the values themselves never go into a decision.
        turn.decide(
            self.name,
            "transform",
            RULE_TRANSFORM,
            kinds=",".join(changed),
            placeholders=str(len(vault)),
        )


def _plant_canary(turn: ChatTurn) -> None:
    """A canary in the system prompt, when there is one, so its leaking shows (guard.output)."""
    messages = turn.upstream_messages or turn.messages
    at = next((i for i, m in enumerate(messages) if m.role == "system" and m.name is None), None)
    if at is None:
        return
    token = new_canary()
    prompt = messages[at]
    planted = dataclasses.replace(prompt, content=with_canary(prompt.content, token))
    turn.upstream_messages = [*messages[:at], planted, *messages[at + 1 :]]
    turn.canary = token


def _texts(message: ChatMessage) -> list[str]:
    texts = [message.content, message.reasoning or ""]
    texts += [call.arguments for call in message.tool_calls]
    return [t for t in texts if t]


def _rewrite(message: ChatMessage, hide: Callable[[str], str]) -> ChatMessage:
    """``message`` with every text the engine would read passed through ``hide``."""

    def apply(text: str) -> str:
        return hide(text) if text else text

    return ChatMessage(
        role=message.role,
        content=apply(message.content),
        reasoning=apply(message.reasoning) if message.reasoning else None,
        tool_calls=tuple(ToolCall(c.id, c.name, apply(c.arguments)) for c in message.tool_calls),
        tool_call_id=message.tool_call_id,
        name=message.name,
    )


_TRANSFORMING = (GuardAction.MASK, GuardAction.PSEUDONYMISE)


def _blocked_message(kinds: list[str], locale: str) -> str:
    if locale.startswith("en"):
        return (
            f"This text contains personal data the policy blocks ({', '.join(kinds)}). "
            "Remove it and send again."
        )
    return (
        f"この内容には、ポリシーで送信が禁止されている個人情報（{'、'.join(kinds)}）が含まれて"
        "います。削除してから送信してください。"
    )
