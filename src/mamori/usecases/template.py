"""The one Jinja2 environment for prompt templates.

Templates are written by administrators and filled with what staff type, so they run
sandboxed: no attribute access to Python internals, no imports, and an unknown name is an
error rather than an empty string. A prompt is plain text, so nothing is HTML-escaped.
"""

from __future__ import annotations

from functools import cache

from jinja2 import StrictUndefined
from jinja2.sandbox import ImmutableSandboxedEnvironment


@cache
def environment() -> ImmutableSandboxedEnvironment:
    return ImmutableSandboxedEnvironment(
        autoescape=False,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=False,
    )
