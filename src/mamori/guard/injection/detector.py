"""The injection detectors, one per finding kind, registered like any third-party detector.

A detector reports its kind's findings only when the text as a whole is judged an attack
(``screen``), so a policy acting on a finding never acts on weak evidence the verdict set
aside (a user's 「さっきの指示は無視して」). All five share one cached scan per text.
"""

from __future__ import annotations

from mamori.domain.decision import Finding
from mamori.guard.injection import INJECTION_KINDS
from mamori.guard.injection.verdict import screen


class InjectionDetector:
    """Every injection kind at once (not registered: the per-kind detectors below are)."""

    name = "injection"
    kinds: tuple[str, ...] = INJECTION_KINDS

    def detect(self, text: str, *, source: str = "user") -> list[Finding]:
        verdict = screen(text, source=source)
        if not verdict.attack:
            return []
        return [f for f in verdict.findings if f.kind in self.kinds]


class OverrideDetector(InjectionDetector):
    name = "injection_override"
    kinds = ("injection.override",)


class SystemPromptDetector(InjectionDetector):
    name = "injection_system_prompt"
    kinds = ("injection.system_prompt",)


class JailbreakDetector(InjectionDetector):
    name = "injection_jailbreak"
    kinds = ("injection.jailbreak",)


class ExfiltrationDetector(InjectionDetector):
    name = "injection_exfiltration"
    kinds = ("injection.exfiltration",)


class ToolHijackDetector(InjectionDetector):
    name = "injection_tool_hijack"
    kinds = ("injection.tool_hijack",)
