"""The few pieces of CommonMark inline syntax the link guard reads: bracket groups, inline link
destinations, reference definitions. Each reader says whether the buffer ended too early to
know (``complete=False``) so the streaming guard can wait for more text."""

from __future__ import annotations

import re
from dataclasses import dataclass

_SPACE = " \t"
# CommonMark backslash escapes: any ASCII punctuation. A renderer unescapes them before it
# writes the href, so they are judged unescaped (``javascript\:`` is ``javascript:``).
_ESCAPE = re.compile(r"\\([!-/:-@\[-`{-~])")
# A definition's destination is held back only while it may still be an absolute URL; a
# relative one (``[1]: 総務省資料``) is harmless and is let through at once.
_MAYBE_ABSOLUTE = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*(?::|\Z)|[/\\](?:[/\\]|\Z)|&|\Z")


@dataclass(frozen=True, slots=True)
class Dest:
    url: str  # unescaped
    end: int  # just after the construct (after ")" for an inline link)
    complete: bool


NOT_A_DEST = Dest("", -1, False)


def unescape(url: str) -> str:
    return _ESCAPE.sub(r"\1", url)


def match_bracket(buf: str, opening: int) -> int | None:
    """Index of the ``]`` matching ``buf[opening] == '['``; None when the buffer ends first;
    -1 when no link text can close here (a blank line)."""
    depth = 0
    i, n = opening, len(buf)
    while i < n:
        c = buf[i]
        if c == "\\":
            i += 2
            continue
        if c == "[":
            depth += 1
        elif c == "]":
            depth -= 1
            if depth == 0:
                return i
        elif c == "\n" and _blank_line_at(buf, i):
            return -1
        i += 1
    return None


def inline_dest(buf: str, paren: int) -> Dest:
    """The destination of ``(url "title")`` at ``buf[paren] == '('``."""
    n = len(buf)
    i = _skip_space(buf, paren + 1, newlines=True)
    if i < 0:
        return NOT_A_DEST
    if i == n:
        return Dest("", n, False)
    if buf[i] == "<":
        close = _angle_close(buf, i)
        if close is None:
            return Dest(unescape(buf[i + 1 :]), n, False)
        if close < 0:
            return NOT_A_DEST
        url, i = buf[i + 1 : close], close + 1
    else:
        j, depth = i, 0
        while j < n:
            c = buf[j]
            if c == "\\":
                j += 2
                continue
            if c in " \t\n":
                break
            if c == "(":
                depth += 1
            elif c == ")":
                if depth == 0:
                    break
                depth -= 1
            elif ord(c) < 0x20:
                return NOT_A_DEST
            j += 1
        if j >= n:
            return Dest(unescape(buf[i:]), n, False)
        url, i = buf[i:j], j
    url = unescape(url)
    i = _skip_space(buf, i, newlines=True)
    if i < 0:
        return NOT_A_DEST
    if i == n:
        return Dest(url, n, False)
    if buf[i] == ")":
        return Dest(url, i + 1, True)
    if buf[i] not in "\"'(":
        return NOT_A_DEST
    closer = ")" if buf[i] == "(" else buf[i]
    j = i + 1
    while j < n and buf[j] != closer:
        if buf[j] == "\\":
            j += 1
        elif buf[j] == "\n" and _blank_line_at(buf, j):
            return NOT_A_DEST
        j += 1
    if j >= n:
        return Dest(url, n, False)
    i = _skip_space(buf, j + 1, newlines=True)
    if i < 0:
        return NOT_A_DEST
    if i == n:
        return Dest(url, n, False)
    return Dest(url, i + 1, True) if buf[i] == ")" else NOT_A_DEST


def definition_dest(buf: str, start: int) -> Dest:
    """The destination of a reference definition, after its ``[label]:``."""
    n = len(buf)
    i = start
    while i < n and buf[i] in _SPACE:
        i += 1
    if i < n and buf[i] == "\n":
        i += 1
        while i < n and buf[i] in _SPACE:
            i += 1
    if i == n:
        return Dest("", n, False)
    if buf[i] == "\n":
        return NOT_A_DEST
    if buf[i] == "<":
        close = _angle_close(buf, i)
        if close is None:
            return Dest(unescape(buf[i + 1 :]), n, False)
        if close < 0:
            return NOT_A_DEST
        return Dest(unescape(buf[i + 1 : close]), close + 1, True)
    j = i
    while j < n and buf[j] not in " \t\n":
        j += 1
    url = unescape(buf[i:j])
    if _MAYBE_ABSOLUTE.match(url) is None:
        return NOT_A_DEST
    return Dest(url, j, j < n)


def has_query(url: str) -> bool:
    """Whether a bare URL carries a query, once GFM's trailing punctuation is left off."""
    return "?" in url.rstrip("?!.,:*_~'\")")


def _angle_close(buf: str, start: int) -> int | None:
    j = start + 1
    while j < len(buf):
        c = buf[j]
        if c == "\\":
            j += 2
            continue
        if c == ">":
            return j
        if c in "<\n":
            return -1
        j += 1
    return None


def _skip_space(buf: str, i: int, *, newlines: bool) -> int:
    """Past spaces (and single newlines); -1 at a blank line, which ends any link."""
    n = len(buf)
    while i < n and (buf[i] in _SPACE or (newlines and buf[i] == "\n")):
        if buf[i] == "\n" and _blank_line_at(buf, i):
            return -1
        i += 1
    return i


def _blank_line_at(buf: str, newline: int) -> bool:
    j = newline + 1
    while j < len(buf) and buf[j] in _SPACE:
        j += 1
    return j < len(buf) and buf[j] == "\n"
