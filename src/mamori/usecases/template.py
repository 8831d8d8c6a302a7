"""The one Jinja2 environment for prompt templates.

Templates are written by administrators and filled with what staff type, so they run
sandboxed: no attribute access to Python internals, no imports, and an unknown name is an
error rather than an empty string. A prompt is plain text, so nothing is HTML-escaped.

A prompt template fills fields in and chooses passages with if/elif/else; that is all the
built-in use cases need. The sandbox stops a template reaching into Python, but not one that
spends the server's time or memory, so the language is narrowed to what keeps rendering
linear in the size of the template and its values: no loops, macros or includes (refused when
a use case is saved), no global functions such as range, only filters that cannot make their
input much longer, and no repetition by ``*`` beyond the size of a prompt.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from jinja2 import StrictUndefined, nodes
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment

# Longer than any prompt a model could take; a render that grows past it is refused.
MAX_PROMPT_CHARS = 500_000

# Filters whose output is no longer than their input (or a number).
ALLOWED_FILTERS = (
    "capitalize",
    "count",
    "d",
    "default",
    "first",
    "last",
    "length",
    "lower",
    "string",
    "title",
    "trim",
    "truncate",
    "upper",
    "wordcount",
)

# Statements a prompt template cannot use: each can repeat work without bound or reach
# beyond the template.
REFUSED_STATEMENTS: dict[type[nodes.Node], str] = {
    nodes.For: "for",
    nodes.Macro: "macro",
    nodes.CallBlock: "call",
    nodes.Include: "include",
    nodes.Import: "import",
    nodes.FromImport: "from ... import",
    nodes.Extends: "extends",
}


class PromptEnvironment(ImmutableSandboxedEnvironment):
    intercepted_binops = frozenset({"*", "**"})

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        if operator == "**":
            raise SecurityError("the ** operator is not available in prompt templates")
        sized = [v for v in (left, right) if isinstance(v, str | list | tuple)]
        counts = [v for v in (left, right) if isinstance(v, int) and not isinstance(v, bool)]
        if sized and counts and len(sized[0]) * counts[0] > MAX_PROMPT_CHARS:
            raise SecurityError("a repetition in the template makes the prompt too long")
        return super().call_binop(context, operator, left, right)


@cache
def environment() -> PromptEnvironment:
    env = PromptEnvironment(
        autoescape=False,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
    env.globals.clear()
    env.filters = {name: env.filters[name] for name in ALLOWED_FILTERS}
    return env


def refused_statements(parsed: nodes.Template) -> list[str]:
    """The statements in a parsed template that prompt templates cannot use, in order."""
    found: list[str] = []
    for node in parsed.find_all(tuple(REFUSED_STATEMENTS)):
        name = REFUSED_STATEMENTS[type(node)]
        if name not in found:
            found.append(name)
    return found
