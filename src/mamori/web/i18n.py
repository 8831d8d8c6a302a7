"""User-facing text in Japanese (the default) and English.

The catalogs live in ``locales/{ja,en}.json``: one flat JSON object each, keys namespaced with
dots (``"chat.send"``, ``"login.title"``, ``"error.engine_unavailable"``). Both files must have the
same keys (a test checks it). Every ``MamoriError.code`` has an ``error.<code>`` entry that tells
a non-technical reader what happened and what to do next.

Catalogs are read on first use and cached; importing this module does no I/O.

Templates receive ``t = translator(lang)``; the chat page also receives
``js_strings = js_strings(lang)``, the strings the chat scripts need (see ``JS_KEYS``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from functools import cache, partial
from pathlib import Path
from types import MappingProxyType
from typing import Final

SUPPORTED: Final = ("ja", "en")
DEFAULT: Final = "ja"

_LOCALES_DIR: Final = Path(__file__).resolve().parent / "locales"
_ERROR_PREFIX: Final = "error."

# Catalog keys that the scripts (static/app.js, static/js/*.js) read from the page's
# <script id="i18n"> block, in addition to every "error.*" key (so the browser can explain an
# error code on its own, e.g. for a message stored with status "error", or when the network fails
# before the server could answer). Keep in sync with the comment at the top of static/app.js.
JS_KEYS: Final = (
    "chat.assistant",
    "chat.citations",
    "chat.citation_page",
    "chat.citation_open",
    "chat.kb_selected",
    "chat.kb_none_selected",
    "chat.copied",
    "chat.copy",
    "chat.copy_help",
    "chat.ai_label",
    "chat.regenerate",
    "chat.attachments",
    "chat.attachment_uploading",
    "chat.attachment_info",
    "chat.attachment_truncated",
    "chat.attachment_failed",
    "chat.attachment_remove",
    "chat.attachment_too_many",
    "chat.attachment_wait",
    "chat.review",
    "chat.reviewed_by",
    "chat.review_title",
    "chat.review_confirm",
    "chat.review_ok",
    "chat.delete",
    "chat.delete_confirm",
    "chat.delete_title",
    "chat.generating",
    "chat.image_removed",
    "chat.loading",
    "chat.reasoning",
    "chat.reasoning_count",
    "chat.reasoning_summary",
    "chat.thinking",
    "chat.thought",
    "chat.rename",
    "chat.rename_label",
    "chat.residency.domestic_cloud",
    "chat.residency.foreign",
    "chat.residency.onprem",
    "chat.residency_help.domestic_cloud",
    "chat.residency_help.foreign",
    "chat.residency_help.onprem",
    "chat.status.error",
    "chat.status.incomplete",
    "chat.stopped",
    "chat.tokens",
    "chat.untitled",
    "chat.you",
    # Labels (機密性) and what the policy allows at each: static/js/classification.js, models.js.
    "classification.public",
    "classification.c1",
    "classification.c2",
    "classification.c3",
    "chat.classification_badge",
    "chat.label_lower_title",
    "chat.label_lower_confirm",
    "chat.label_lower_ok",
    "chat.model_unusable",
    "chat.model_switched",
    "chat.no_usable_model",
    # The policy's notices in the message flow: static/js/policy.js.
    "policy.ui.denied_title",
    "policy.ui.rerouted_title",
    "policy.ui.masked_title",
    "policy.ui.rule",
    "policy.ui.text_kept",
    # The simulator on the admin policy page: static/js/admin_policy.js.
    "admin.sim.result",
    "admin.sim.action",
    "admin.sim.rule",
    "admin.sim.data",
    "admin.sim.endpoint_used",
    "admin.sim.allowed",
    "admin.sim.refused",
    "admin.sim.reason",
    "admin.sim.message",
    "admin.sim.none",
    "admin.action.allow",
    "admin.action.reroute",
    "admin.action.mask_then_allow",
    "admin.action.deny",
    # The "check this text" box on the admin policy page: static/js/admin_scan.js.
    "admin.scan.result",
    "admin.scan.marked",
    "admin.scan.findings",
    "admin.scan.no_findings",
    "admin.scan.col.label",
    "admin.scan.col.score",
    "admin.scan.col.text",
    "admin.scan.col.position",
    "admin.scan.injection",
    "admin.scan.verdict",
    "admin.scan.attack_yes",
    "admin.scan.attack_no",
    "admin.scan.score",
    "admin.scan.score_value",
    "admin.scan.kinds",
    "admin.scan.none",
    "admin.kind.my_number",
    "admin.kind.corporate_number",
    "admin.kind.person",
    "admin.kind.phone",
    "admin.kind.email",
    "admin.kind.postal_code",
    "admin.kind.address",
    "admin.kind.birth_date",
    "admin.kind.bank_account",
    "admin.kind.credit_card",
    "admin.kind.passport",
    "admin.kind.driver_license",
    "admin.kind.pension_number",
    "admin.kind.injection_override",
    "admin.kind.injection_system_prompt",
    "admin.kind.injection_jailbreak",
    "admin.kind.injection_exfiltration",
    "admin.kind.injection_tool_hijack",
)

# "ja-JP;q=0.8" -> ("ja-JP", "0.8"); parameters other than q are ignored. A malformed q value is
# captured as is, so that float() rejects it and the range is skipped.
_LANG_RANGE = re.compile(r"^\s*([A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*|\*)\s*(?:;\s*q\s*=\s*([^;]*))?")


@cache
def catalog(lang: str) -> Mapping[str, str]:
    """The catalog of a supported language (read once). Unknown languages get the default's."""
    if lang not in SUPPORTED:
        lang = DEFAULT
    path = _LOCALES_DIR / f"{lang}.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in data.items()
    ):
        raise ValueError(f"{path}: expected one flat JSON object of strings")
    return MappingProxyType(data)


def translate(lang: str, key: str, **params: object) -> str:
    """The text for ``key`` in ``lang``; else in Japanese; else the key itself.

    ``params`` fill ``{name}`` placeholders (``str.format``). A template mistake (a missing or
    malformed placeholder) yields the unformatted text rather than an exception: a page with a
    raw ``{count}`` is better than a page that does not render.
    """
    text = catalog(lang).get(key)
    if text is None:
        text = catalog(DEFAULT).get(key, key)
    if not params:
        return text
    try:
        return text.format(**params)
    except (KeyError, IndexError, ValueError, AttributeError):
        return text


def translator(lang: str) -> Callable[..., str]:
    """``t(key, **params)`` bound to ``lang``: what templates receive as ``t``."""
    return partial(translate, lang)


def error_message(lang: str, code: str) -> str:
    """The message for an error code (``MamoriError.code``); unknown codes get the generic one."""
    key = _ERROR_PREFIX + code
    if key in catalog(lang) or key in catalog(DEFAULT):
        return translate(lang, key)
    return translate(lang, _ERROR_PREFIX + "internal_error")


def negotiate(cookie: str | None, accept_language: str | None) -> str:
    """Pick the UI language.

    1. The ``lang`` cookie (set by the language switch), if it names a supported language.
    2. Else English only if the browser's Accept-Language prefers English to Japanese
       (higher q, or equal q and listed first).
    3. Else Japanese.
    """
    if cookie:
        chosen = cookie.strip().lower()
        if chosen in SUPPORTED:
            return chosen
    if not accept_language:
        return DEFAULT
    best: dict[str, tuple[float, int]] = {}
    for position, part in enumerate(accept_language.split(",")[:50]):
        match = _LANG_RANGE.match(part)
        if not match:
            continue
        primary = match.group(1).split("-", 1)[0].lower()
        if primary not in SUPPORTED:
            continue
        try:
            q = float(match.group(2)) if match.group(2) is not None else 1.0
        except ValueError:
            continue
        if not 0 < q <= 1:  # also rejects NaN; q=0 means "not acceptable"
            continue
        # Keep the best q seen for this language; earlier position breaks ties.
        if primary not in best or q > best[primary][0]:
            best[primary] = (q, position)
    if not best:
        return DEFAULT
    return min(best, key=lambda lang: (-best[lang][0], best[lang][1], lang != DEFAULT))


def js_strings(lang: str) -> dict[str, str]:
    """The strings static/app.js needs, keyed by catalog key: ``JS_KEYS`` and every ``error.*``."""
    return {key: translate(lang, key) for key in JS_KEYS} | strings_under(lang, _ERROR_PREFIX)


def strings_under(lang: str, *prefixes: str) -> dict[str, str]:
    """Every catalog key under ``prefixes`` (e.g. ``"admin.users."``), for a page's own
    script: the page then never shows a key its script asks for but the router forgot."""
    return {
        key: translate(lang, key)
        for key in catalog(DEFAULT)
        if any(key.startswith(p) for p in prefixes)
    }
