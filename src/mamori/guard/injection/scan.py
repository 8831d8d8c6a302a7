"""One pass of every pattern family over a text, as findings in the original text.

The five kind detectors and ``screen`` share this pass (cached per text and source), so a
turn scanned by all of them prepares its view and runs each family once.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from functools import lru_cache

from mamori.domain.decision import Finding
from mamori.guard.injection import exfiltration, jailbreak, override, system_prompt, tool_hijack
from mamori.guard.injection._base import Hit, clamp, is_user
from mamori.guard.injection._text import View, prepare
from mamori.guard.injection.hidden import TAG_CHARS, hidden_regions, inside

Family = Callable[[View, str], Iterator[Hit]]
FAMILIES: tuple[Family, ...] = (
    override.scan,
    system_prompt.scan,
    jailbreak.scan,
    exfiltration.scan,
    tool_hijack.scan,
)
# Weak evidence is kept for the audit trail, noise is not.
EVIDENCE_FLOOR = 0.3
# A hit inside text hidden from the human reader (an HTML comment) is more likely aimed at the
# model.
_HIDDEN_BOOST = 0.1


def _merge(hits: Iterable[Hit]) -> list[Hit]:
    """Per kind, overlapping hits become one with the union span and the best score."""
    merged: list[Hit] = []
    for hit in sorted(hits, key=lambda h: (h.kind, h.start, -h.end)):
        last = merged[-1] if merged else None
        if last is not None and last.kind == hit.kind and hit.start < last.end:
            merged[-1] = Hit(
                hit.kind, last.start, max(last.end, hit.end), max(last.score, hit.score)
            )
        else:
            merged.append(hit)
    return merged


def _view_hits(view: View, source: str) -> list[Hit]:
    hits = [hit for family in FAMILIES for hit in family(view, source)]
    if not hits or is_user(source):
        return _merge(hits)
    regions = hidden_regions(view.text)
    if regions:
        hits = [
            Hit(h.kind, h.start, h.end, clamp(h.score + _HIDDEN_BOOST))
            if inside(regions, h.start, h.end)
            else h
            for h in hits
        ]
    return _merge(hits)


def _smuggled(text: str, source: str) -> Iterator[Finding]:
    """Unicode tag characters spell ASCII no one sees: decode and scan what they say."""
    for run in TAG_CHARS.finditer(text):
        decoded = "".join(chr(ord(ch) - 0xE0000) for ch in run.group())
        found = scan_text(decoded, source)
        best = max((f.score for f in found), default=0.0)
        kinds = {f.kind for f in found} or {override.KIND}
        for kind in sorted(kinds):
            score = clamp(max(best + 0.1, 0.5 if is_user(source) else 0.6))
            yield Finding(kind, run.start(), run.end(), score=score, source=source)


@lru_cache(maxsize=64)
def scan_text(text: str, source: str) -> tuple[Finding, ...]:
    """Every piece of injection evidence (score >= ``EVIDENCE_FLOOR``), in text order."""
    if not text:
        return ()
    view = prepare(text)
    findings: list[Finding] = []
    for hit in _view_hits(view, source):
        if hit.score < EVIDENCE_FLOOR or hit.end <= hit.start:
            continue
        start, end = view.span(hit.start, hit.end)
        findings.append(Finding(hit.kind, start, end, score=round(hit.score, 3), source=source))
    if not text.isascii():
        findings.extend(_smuggled(text, source))
    findings.sort(key=lambda f: (f.start, f.end, f.kind))
    return tuple(findings)
