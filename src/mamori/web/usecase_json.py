"""Use cases as the workspace's pages and scripts read them, in the person's language."""

from __future__ import annotations

from mamori.usecases.catalog import Entry, definition_json
from mamori.usecases.definition import UseCase, UseCaseField


def field_json(f: UseCaseField, lang: str) -> dict[str, object]:
    en = lang == "en"
    return {
        "name": f.name,
        "kind": f.kind,
        "label": f.label_en if en else f.label_ja,
        "help": f.help_en if en else f.help_ja,
        "placeholder": f.placeholder_en if en else f.placeholder_ja,
        "required": f.required,
        "max_chars": f.max_chars,
        "default": f.default,
        "choices": [
            {"value": c.value, "label": c.label_en if en else c.label_ja} for c in f.choices
        ],
    }


def use_case_json(entry: Entry, lang: str, *, admin: bool = False) -> dict[str, object]:
    u: UseCase = entry.use_case
    shown: dict[str, object] = {
        "id": u.id,
        "title": u.title(lang),
        "description": u.description(lang),
        "category": u.category,
        "fields": [field_json(f, lang) for f in u.fields],
        "model": u.model,
        "reasoning_effort": u.reasoning_effort,
        "knowledge": u.knowledge,
        "knowledge_bases": list(u.knowledge_bases),
        "outside_use": u.outside_use,
    }
    if admin:
        # What the admin console needs to manage it; the template is an administrator's
        # business, not every clerk's.
        shown.update(
            {
                "hidden": u.hidden,
                "builtin": entry.builtin,
                "customised": entry.customised,
                "updated_by": entry.updated_by,
                "updated_at": entry.updated_at.isoformat() if entry.updated_at else None,
                "definition": definition_json(u),
            }
        )
    return shown
