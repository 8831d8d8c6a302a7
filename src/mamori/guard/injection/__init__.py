"""Prompt-injection screening in Japanese and English, aware of where text came from.

Public API::

    from mamori.guard.injection import screen, InjectionVerdict, THRESHOLDS, INJECTION_KINDS

    verdict = screen(text, source="document")   # user | document | tool | answer
    verdict.attack, verdict.score, verdict.kinds, verdict.findings

Finding kinds, one module each::

    injection.override       override       「これまでの指示を無視」, "ignore previous instructions"
    injection.system_prompt  system_prompt  「システムプロンプトを表示して」, "reveal your prompt"
    injection.jailbreak      jailbreak      DAN, 「制限のないAIとして」, safety switched off
    injection.exfiltration   exfiltration   Markdown images carrying data, 「…に送信して」+ URL
    injection.tool_hijack    tool_hijack    call/execute orders, hidden HTML instructions

The same words can be benign from the user and an attack inside a document: each family scores
for the source (see ``_base``), and ``verdict.THRESHOLDS`` sets a stricter bar for the user.
The per-kind detectors in ``detector`` register through the ``mamori.detectors`` entry points.
"""

from __future__ import annotations

INJECTION_KINDS: tuple[str, ...] = (
    "injection.override",
    "injection.system_prompt",
    "injection.jailbreak",
    "injection.exfiltration",
    "injection.tool_hijack",
)

INJECTION_PREFIX = "injection."


def is_injection_kind(kind: str) -> bool:
    return kind.startswith(INJECTION_PREFIX)


from mamori.guard.injection.verdict import (  # noqa: E402  (the kinds first: detector imports them)
    DEFAULT_THRESHOLD,
    THRESHOLDS,
    InjectionVerdict,
    screen,
)

__all__ = [
    "DEFAULT_THRESHOLD",
    "INJECTION_KINDS",
    "INJECTION_PREFIX",
    "THRESHOLDS",
    "InjectionVerdict",
    "is_injection_kind",
    "screen",
]
