"""What the person is told about the sovereignty policy's decision on their turn."""

from __future__ import annotations

from mamori.domain.sovereignty import PolicyAction
from mamori.pipeline.turn import ChatTurn
from mamori.web.i18n import translate


def policy_notice(turn: ChatTurn, lang: str) -> dict[str, object] | None:
    """The decision when the person should notice it (a reroute or a refusal), else None."""
    decision = turn.policy
    if decision is None or decision.action is PolicyAction.ALLOW:
        return None
    data = decision.data_class
    label = data.label_en if lang == "en" else data.label_ja
    if decision.action is PolicyAction.DENY:
        message = decision.message(lang)
    else:
        message = translate(
            lang,
            f"policy.notice.{decision.action.value}",
            label=label,
            endpoint=decision.endpoint or "",
            rule=decision.rule_id,
        )
    return {
        "action": decision.action.value,
        "rule_id": decision.rule_id,
        "classification": int(data.classification),
        "special_personal": data.special_personal,
        "endpoint": decision.endpoint,
        "message": message,
    }


def error_text(turn: ChatTurn, code: str, lang: str) -> str:
    """A refusal by the policy names its rule and what to do instead; other errors are fixed."""
    if code == "policy_denied" and turn.policy is not None:
        return turn.policy.message(lang)
    if turn.quota_breach is not None:  # says which limit and when it resets
        return turn.quota_breach.message(lang)
    return translate(lang, f"error.{code}")
