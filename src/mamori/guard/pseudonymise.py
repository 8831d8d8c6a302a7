"""Masking and reversible pseudonymisation of findings, and restoring placeholders in a stream.

Placeholders are numbered per kind in order of first appearance across the whole request.
The workspace re-sends a conversation's history on every turn, so the same person keeps the
same placeholder (〔氏名1〕) turn after turn without a stored mapping: the numbering of the
history does not change when a turn is appended.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from mamori.domain.chat import ContentDelta, Done, ReasoningDelta, StreamEvent
from mamori.domain.decision import Finding
from mamori.domain.guard import GuardAction

LABELS = {
    "my_number": "個人番号",
    "corporate_number": "法人番号",
    "person": "氏名",
    "phone": "電話番号",
    "email": "メールアドレス",
    "postal_code": "郵便番号",
    "address": "住所",
    "birth_date": "生年月日",
    "bank_account": "口座番号",
    "credit_card": "カード番号",
    "passport": "旅券番号",
    "driver_license": "免許証番号",
    "pension_number": "基礎年金番号",
}
OPEN, CLOSE = "〔", "〕"
# The longest placeholder: the longest label and a generous index.
MAX_PLACEHOLDER = max(len(label) for label in LABELS.values()) + 8
_PLACEHOLDER = re.compile(f"{OPEN}([^{OPEN}{CLOSE}]{{1,{MAX_PLACEHOLDER}}}){CLOSE}")


def label_of(kind: str) -> str:
    return LABELS.get(kind, "個人情報")


class Vault:
    """Placeholders of one request, both ways. Holds originals: it never leaves the process."""

    def __init__(self) -> None:
        self._by_value: dict[tuple[str, str], str] = {}
        self._by_placeholder: dict[str, str] = {}
        self._counts: dict[str, int] = {}
        # Masked values, for hiding them where no detector sees them again.
        self._masked: dict[str, str] = {}

    def placeholder(self, kind: str, value: str) -> str:
        key = (kind, value)
        found = self._by_value.get(key)
        if found is None:
            label = label_of(kind)
            self._counts[label] = self._counts.get(label, 0) + 1
            found = f"{OPEN}{label}{self._counts[label]}{CLOSE}"
            self._by_value[key] = found
            self._by_placeholder[found] = value
        return found

    def mask(self, kind: str, value: str) -> str:
        replacement = f"{OPEN}{label_of(kind)}{CLOSE}"
        self._masked[value] = replacement
        return replacement

    def hide_known(self, text: str) -> str:
        """Every value seen anywhere in the request, replaced wherever else it appears.

        A detector needs context ("佐藤花子さん"); the same name later in an answer, a list
        or a tool result has none, and must not go out there in clear.
        """
        known = {value: p for (_, value), p in self._by_value.items()} | self._masked
        for value in sorted(known, key=len, reverse=True):
            if value in text:
                text = text.replace(value, known[value])
        return text

    def original(self, placeholder: str) -> str | None:
        return self._by_placeholder.get(placeholder)

    def __len__(self) -> int:
        return len(self._by_placeholder)


def transform(
    text: str,
    findings: Iterable[Finding],
    actions: Mapping[str, GuardAction],
    vault: Vault,
) -> str:
    """``text`` with each finding masked or pseudonymised as ``actions`` says (else kept).

    ``findings`` must not overlap (see ``guard.resolve``); spans index ``text``.
    """
    pieces: list[str] = []
    at = 0
    for finding in sorted(findings, key=lambda f: f.start):
        action = actions.get(finding.kind, GuardAction.FLAG)
        if action is GuardAction.PSEUDONYMISE:
            replacement = vault.placeholder(finding.kind, text[finding.start : finding.end])
        elif action is GuardAction.MASK:
            replacement = vault.mask(finding.kind, text[finding.start : finding.end])
        else:
            continue
        pieces += [text[at : finding.start], replacement]
        at = finding.end
    pieces.append(text[at:])
    return "".join(pieces)


class Restorer:
    """Puts originals back into streamed text, also when a placeholder arrives in pieces.

    Text after an unclosed 〔 is held back until it closes or grows longer than any
    placeholder could; everything else passes through at once.
    """

    def __init__(self, vault: Vault) -> None:
        self.vault = vault
        self._held = ""
        self.restored = 0

    def feed(self, text: str) -> str:
        data = self._held + text
        self._held = ""
        cut = data.rfind(OPEN)
        if cut >= 0 and CLOSE not in data[cut:] and len(data) - cut <= MAX_PLACEHOLDER + 1:
            data, self._held = data[:cut], data[cut:]
        return self._restore(data)

    def flush(self) -> str:
        data, self._held = self._held, ""
        return self._restore(data)

    def _restore(self, text: str) -> str:
        if OPEN not in text:
            return text

        def put_back(match: re.Match[str]) -> str:
            original = self.vault.original(match.group(0))
            if original is None:
                return match.group(0)
            self.restored += 1
            return original

        return _PLACEHOLDER.sub(put_back, text)


class EventRestorer:
    """Restores placeholders in a turn's streamed answer and reasoning, each on its own."""

    def __init__(self, vault: Vault) -> None:
        self.content = Restorer(vault)
        self.reasoning = Restorer(vault)

    def restore(self, event: StreamEvent) -> list[StreamEvent]:
        match event:
            case ContentDelta(text=text):
                restored = self.content.feed(text)
                return [ContentDelta(restored)] if restored else []
            case ReasoningDelta(text=text):
                restored = self.reasoning.feed(text)
                return [ReasoningDelta(restored)] if restored else []
            case Done():
                # Whatever was held back as a possible placeholder belongs before the end.
                return [*self.flush(), event]
            case _:
                return [event]

    def flush(self) -> list[StreamEvent]:
        held: list[StreamEvent] = []
        if reasoning := self.reasoning.flush():
            held.append(ReasoningDelta(reasoning))
        if content := self.content.flush():
            held.append(ContentDelta(content))
        return held

    @property
    def restored(self) -> int:
        return self.content.restored + self.reasoning.restored
