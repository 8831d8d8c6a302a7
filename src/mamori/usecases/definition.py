"""What a use case is: a form, a prompt template, and the defaults of the turn it starts.

A use case is data (YAML in ``builtin/``, JSON when an admin imports or edits one), so this
module is its schema. Validating a definition also compiles its template, so a use case that
names a field it does not have, or a template that does not parse, is refused when it is
saved, not when a clerk presses 実行.
"""

from __future__ import annotations

import re
from typing import Annotated, Literal

from jinja2 import TemplateSyntaxError, meta
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from mamori.domain.chat import ReasoningEffort
from mamori.usecases.template import environment, refused_statements

Slug = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_-]{1,62}$")]
FieldName = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,39}$")]
Label = Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)]
Help = Annotated[str, StringConstraints(max_length=1000, strip_whitespace=True)]

FieldKind = Literal["text", "textarea", "select", "checkbox"]
# Where the knowledge bases come from: none, the person's choice (optional), or at least one
# must be chosen (required), e.g. a 答弁案 that must cite the ordinance it rests on.
KnowledgeMode = Literal["none", "optional", "required"]

# A field's text may be long (a council transcript), but the message as a whole is capped
# by the chat API too.
MAX_FIELD_CHARS = 60_000
MAX_TEMPLATE_CHARS = 20_000


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Choice(_Strict):
    value: Annotated[str, StringConstraints(min_length=1, max_length=100)]
    label_ja: Label
    label_en: Label


class UseCaseField(_Strict):
    name: FieldName
    kind: FieldKind = "textarea"
    label_ja: Label
    label_en: Label
    help_ja: Help = ""
    help_en: Help = ""
    placeholder_ja: Help = ""
    placeholder_en: Help = ""
    required: bool = False
    max_chars: int = Field(default=20_000, ge=1, le=MAX_FIELD_CHARS)
    choices: tuple[Choice, ...] = ()
    # A select's default is one of its values; a checkbox's is "true" or "".
    default: Annotated[str, StringConstraints(max_length=1000)] = ""

    @model_validator(mode="after")
    def _choices_fit_the_kind(self) -> UseCaseField:
        if self.kind == "select":
            values = [c.value for c in self.choices]
            if not values:
                raise ValueError(f"select field {self.name!r} needs choices")
            if len(set(values)) != len(values):
                raise ValueError(f"select field {self.name!r} has a value twice")
            if self.default and self.default not in values:
                raise ValueError(f"default of {self.name!r} is not one of its choices")
        elif self.choices:
            raise ValueError(f"only a select field has choices ({self.name!r} is {self.kind})")
        if self.kind == "checkbox" and self.default not in ("", "true"):
            raise ValueError(f"a checkbox's default is 'true' or '' ({self.name!r})")
        return self


class UseCase(_Strict):
    id: Slug
    title_ja: Label
    title_en: Label
    description_ja: Help = ""
    description_en: Help = ""
    # Groups the gallery: document | communication | council | citizen | other.
    category: Literal["document", "communication", "council", "citizen", "other"] = "other"
    order: int = Field(default=100, ge=0, le=10_000)
    fields: tuple[UseCaseField, ...] = Field(min_length=1, max_length=20)
    prompt: Annotated[str, StringConstraints(min_length=1, max_length=MAX_TEMPLATE_CHARS)]
    # Defaults the page starts with; a model the installation lacks falls back to the first.
    model: Annotated[str, StringConstraints(max_length=200)] | None = None
    reasoning_effort: ReasoningEffort | None = None
    knowledge: KnowledgeMode = "none"
    # Knowledge bases (names) chosen in advance; the person sees only those they may read.
    knowledge_bases: tuple[Annotated[str, StringConstraints(max_length=200)], ...] = ()
    # The answer is meant to leave the organisation (a notice to residents, a mail): it carries
    # the AI生成 label and a "reviewed by" confirmation that is recorded in the audit trail.
    outside_use: bool = False
    hidden: bool = False

    @model_validator(mode="after")
    def _template_uses_only_its_fields(self) -> UseCase:
        names = [f.name for f in self.fields]
        if len(set(names)) != len(names):
            raise ValueError("two fields have the same name")
        env = environment()
        try:
            parsed = env.parse(self.prompt)
            refused = refused_statements(parsed)
            if refused:
                raise ValueError(
                    "prompt templates use fields and if/elif/else only; not: " + ", ".join(refused)
                )
            env.compile(parsed)  # an unknown filter is found here, when saved, not when run
        except TemplateSyntaxError as exc:
            raise ValueError(f"prompt template line {exc.lineno}: {exc.message}") from exc
        unknown = sorted(meta.find_undeclared_variables(parsed) - set(names))
        if unknown:
            raise ValueError(f"prompt template names unknown fields: {', '.join(unknown)}")
        if self.knowledge == "none" and self.knowledge_bases:
            raise ValueError("knowledge_bases are set but knowledge is 'none'")
        return self

    def title(self, lang: str) -> str:
        return self.title_en if lang == "en" else self.title_ja

    def description(self, lang: str) -> str:
        return self.description_en if lang == "en" else self.description_ja


def conversation_title(use_case: UseCase, lang: str, first_text: str) -> str:
    """「要約: 令和7年度…」: the use case, then the start of what the person gave it."""
    snippet = re.sub(r"\s+", " ", first_text).strip()
    if len(snippet) > 24:
        snippet = snippet[:24] + "…"
    title = use_case.title(lang)
    return f"{title}: {snippet}" if snippet else title
