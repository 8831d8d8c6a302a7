"""Raw HTML tags in an answer, read leniently the way a browser would, and judged by their URLs.

The workspace escapes raw HTML, but a /v1 client may render it, so a tag that makes the browser
fetch something (``<img src>``, ``<video poster>``, ``style="background:url(...)"``) or that
is active in itself (``<script>``, ``<iframe>``, ``<base>``) is judged here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from mamori.guard.output.urls import HostPolicy, Reason, Verdict

_NAME = re.compile(r"</?([A-Za-z][A-Za-z0-9-]*)")
_SPACE = " \t\n\r\f"

# Fetched as soon as the tag is parsed: only allowlisted absolute URLs may stay.
_LOADING_ATTRS = frozenset(
    {"src", "srcset", "poster", "background", "data", "lowsrc", "dynsrc", "codebase", "manifest"}
)
# Followed on a click (or a form submission): relative URLs are harmless.
_FOLLOWED_ATTRS = frozenset(
    {"href", "xlink:href", "action", "formaction", "cite", "longdesc", "ping", "usemap"}
)
# Dangerous whatever their attributes say; removed outright.
ACTIVE_TAGS = frozenset(
    {
        "script", "style", "iframe", "frame", "frameset", "object", "embed", "applet", "base",
        "link", "meta", "svg", "math", "portal", "template",
    }
)  # fmt: skip
IMAGE_TAGS = frozenset({"img", "image", "picture", "source", "video", "audio", "track", "input"})
_CSS_FETCH = re.compile(r"url\s*\(|image-set\s*\(|@import|expression\s*\(", re.IGNORECASE)


@dataclass(frozen=True, slots=True)
class Tag:
    name: str  # lowercase
    closing: bool
    attrs: tuple[tuple[str, str], ...]  # lowercase names, raw values without quotes
    end: int  # index just after the closing ``>``


class Incomplete:
    """The buffer ended inside what may still be a tag."""


INCOMPLETE = Incomplete()


def scan_tag(buf: str, start: int) -> Tag | Incomplete | None:
    """The tag at ``buf[start] == '<'``, INCOMPLETE if the buffer ends inside it, None if it
    is not a tag (``a < b``, ``a<b``, a blank line before any ``>``)."""
    m = _NAME.match(buf, start)
    if m is None:
        tail = buf[start + 1 : start + 2]
        return INCOMPLETE if tail in ("", "/") and len(buf) - start <= 2 else None
    i = m.end()
    if i == len(buf):
        return INCOMPLETE
    if buf[i] not in _SPACE and buf[i] not in "/>":
        return None
    attrs: list[tuple[str, str]] = []
    n = len(buf)
    while True:
        while i < n and (buf[i] in _SPACE or buf[i] == "/"):
            if buf[i] == "\n" and _blank_line_follows(buf, i):
                return None
            i += 1
        if i == n:
            return INCOMPLETE
        if buf[i] == ">":
            return Tag(m.group(1).lower(), buf[start + 1] == "/", tuple(attrs), i + 1)
        # Attribute names and unquoted values as a browser reads them: a "<" or a quote in
        # them is a parse error, not the end of the tag. A stricter reading would let a
        # marker put in place of something inside make the outer tag valid after all.
        name_start = i
        i += 1
        while i < n and buf[i] not in _SPACE and buf[i] not in "/>=":
            i += 1
        name = buf[name_start:i].lower()
        j = i
        while j < n and buf[j] in _SPACE:
            j += 1
        if j == n:
            return INCOMPLETE
        if buf[j] != "=":
            attrs.append((name, ""))
            continue
        j += 1
        while j < n and buf[j] in _SPACE:
            j += 1
        if j == n:
            return INCOMPLETE
        if buf[j] in "\"'":
            close = buf.find(buf[j], j + 1)
            if close == -1:
                return INCOMPLETE if "\n\n" not in buf[j:] else None
            attrs.append((name, buf[j + 1 : close]))
            i = close + 1
        else:
            value_start = j
            while j < n and buf[j] not in _SPACE and buf[j] != ">":
                j += 1
            if j == n:
                return INCOMPLETE
            attrs.append((name, buf[value_start:j]))
            i = j


def _blank_line_follows(buf: str, newline: int) -> bool:
    j = newline + 1
    while j < len(buf) and buf[j] in " \t":
        j += 1
    return j < len(buf) and buf[j] == "\n"


@dataclass(frozen=True, slots=True)
class TagVerdict:
    kind: str  # "image" | "link" | "html"
    verdict: Verdict


def judge_tag(tag: Tag, policy: HostPolicy) -> TagVerdict | None:
    """None when the tag may stay; otherwise what it is and why it goes."""
    if tag.name in ACTIVE_TAGS:
        return TagVerdict("html", Verdict(False, Reason.SCHEME))
    if tag.closing:
        return None
    image = tag.name in IMAGE_TAGS
    for name, value in tag.attrs:
        if name == "style" and _CSS_FETCH.search(value):
            return TagVerdict("image", Verdict(False, Reason.HOST))
        if name.startswith("on"):
            # An event handler is script; a renderer that kept it would run it.
            return TagVerdict("html", Verdict(False, Reason.SCHEME))
        if name in _LOADING_ATTRS:
            for url in _urls_of(name, value):
                verdict = policy.judge(url, loads=True)
                if not verdict.safe:
                    return TagVerdict("image", verdict)
        elif name in _FOLLOWED_ATTRS:
            verdict = policy.judge(value, loads=False)
            if not verdict.safe:
                return TagVerdict("image" if image else "link", verdict)
    return None


def _urls_of(name: str, value: str) -> list[str]:
    if name != "srcset":
        return [value]
    # "a.png 1x, https://evil/b.png 2x": the first word of each candidate.
    return [part.split()[0] for part in value.split(",") if part.split()]
