"""From a filled-in use-case form to the message the turn sends.

What the person typed is checked against the form (required, length, a select's choices) and
then given to the template as values, never as template source: typing ``{{ ... }}`` into a
field inserts those characters, it does not run them.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache

from jinja2 import Template, TemplateError

from mamori.errors import InvalidRequestError
from mamori.usecases.definition import UseCase, UseCaseField
from mamori.usecases.template import MAX_PROMPT_CHARS, environment

FormValue = str | bool


class UseCaseInputError(InvalidRequestError):
    """A field was left empty, is too long, or holds a value the form does not offer."""

    code = "use_case_input"
    http_status = 422

    def __init__(self, message: str, *, field: str) -> None:
        super().__init__(message)
        self.field = field


def read_values(use_case: UseCase, raw: Mapping[str, object]) -> dict[str, FormValue]:
    unknown = sorted(set(raw) - {f.name for f in use_case.fields})
    if unknown:
        raise UseCaseInputError(f"unknown field {unknown[0]!r}", field=unknown[0])
    return {f.name: _value(f, raw.get(f.name)) for f in use_case.fields}


def _value(spec: UseCaseField, raw: object) -> FormValue:
    if spec.kind == "checkbox":
        if raw is None or isinstance(raw, bool):
            return bool(raw)
        raise UseCaseInputError(f"{spec.name!r} must be true or false", field=spec.name)
    if raw is None:
        raw = spec.default
    if not isinstance(raw, str):
        raise UseCaseInputError(f"{spec.name!r} must be text", field=spec.name)
    text = raw.strip()
    if spec.kind == "select":
        allowed = [c.value for c in spec.choices]
        if text not in allowed:
            raise UseCaseInputError(f"{spec.name!r} must be one of {allowed}", field=spec.name)
        return text
    if spec.required and not text:
        raise UseCaseInputError(f"{spec.name!r} is required", field=spec.name)
    if len(text) > spec.max_chars:
        raise UseCaseInputError(
            f"{spec.name!r} is {len(text)} characters; at most {spec.max_chars}", field=spec.name
        )
    return text


@lru_cache(maxsize=256)
def _compiled(prompt: str) -> Template:
    return environment().from_string(prompt)


def render_prompt(use_case: UseCase, values: Mapping[str, FormValue]) -> str:
    """The message the turn sends. CPU-bound: call it off the event loop."""
    parts: list[str] = []
    size = 0
    try:
        for part in _compiled(use_case.prompt).generate(**values):
            size += len(part)
            if size > MAX_PROMPT_CHARS:
                raise InvalidRequestError(
                    f"the use case's template made a prompt over {MAX_PROMPT_CHARS} characters"
                )
            parts.append(part)
    except TemplateError as exc:
        # Validation compiled the template; what is left is a sandbox refusal at run time.
        raise InvalidRequestError(f"the use case's template failed: {exc}") from exc
    # Template blocks leave runs of blank lines where an option was off.
    lines = [line.rstrip() for line in "".join(parts).strip().splitlines()]
    compact: list[str] = []
    for line in lines:
        if line or (compact and compact[-1]):
            compact.append(line)
    return "\n".join(compact)
