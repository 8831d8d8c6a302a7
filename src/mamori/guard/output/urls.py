"""Where a URL in a model's answer would send the reader's browser, and whether it may.

The question is asked of a URL as a browser would resolve it, not as it looks: entities are
decoded, tabs and newlines inside are dropped, backslashes count as slashes, userinfo is not the
host, and hosts are compared in their IDNA (ASCII) form. Wherever the answer is unclear, the
URL is judged unsafe: a link removed by mistake costs a click, a URL let through by mistake can
carry the conversation to someone else's server.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum

_SCHEME = re.compile(r"([A-Za-z][A-Za-z0-9+.-]*):")
# What a browser strips or ignores before it reads the scheme.
_C0_AND_SPACE = "".join(chr(c) for c in range(0x21))
_INSIDE_IGNORED = str.maketrans("", "", "\t\n\r")
_PORT = re.compile(r":[0-9]*\Z")
# After IDNA: anything but these is a host we do not understand, so not one we allow.
_PLAIN_HOST = re.compile(r"[a-z0-9](?:[a-z0-9.-]*[a-z0-9])?")


class Reason(StrEnum):
    ALLOWED = "allowed"
    RELATIVE = "relative"  # no scheme and no host: the reader's own site
    HOST = "host"  # http(s) to a host outside the allowlist
    SCHEME = "scheme"  # javascript:, data:, file:, mailto: ...


@dataclass(frozen=True, slots=True)
class Verdict:
    safe: bool
    reason: Reason
    # ASCII host when there is one we could read; empty otherwise (never raw attacker text).
    host: str = ""


def ascii_host(host: str) -> str | None:
    """``host`` lowercased in its IDNA form, or None when it is not a plain DNS name or IPv4."""
    host = host.strip().rstrip(".。．｡").lower()
    if not host:
        return None
    if not host.isascii():
        try:
            host = host.encode("idna").decode("ascii").lower()
        except UnicodeError:
            return None
    return host if _PLAIN_HOST.fullmatch(host) else None


class HostPolicy:
    """The organisation's allowlist: a host is allowed when it is an entry or under one."""

    def __init__(self, allowed_hosts: Iterable[str]) -> None:
        hosts = set()
        for entry in allowed_hosts:
            normal = ascii_host(entry)
            if normal is not None:
                hosts.add(normal)
        self.hosts = frozenset(hosts)

    def allows(self, host: str) -> bool:
        if host in self.hosts:
            return True
        # Walk up the labels: intranet.city.example.jp is under city.example.jp.
        dot = host.find(".")
        while dot != -1:
            if host[dot + 1 :] in self.hosts:
                return True
            dot = host.find(".", dot + 1)
        return False

    def judge(self, raw: str, *, loads: bool, complete: bool = True) -> Verdict:
        """Whether ``raw`` may stay in the answer.

        ``loads``: the browser fetches it without a click (an image); then only an absolute
        http(s) URL to an allowed host will do. ``complete=False``: ``raw`` may still grow, so a
        host not yet ended by ``/``, ``?`` or ``#`` could still become another one.
        """
        url = html.unescape(raw).translate(_INSIDE_IGNORED).strip(_C0_AND_SPACE)
        scheme = _SCHEME.match(url)
        if scheme is not None:
            if scheme.group(1).lower() not in ("http", "https"):
                return Verdict(False, Reason.SCHEME)
            rest = url[scheme.end() :]
        elif url[:2] in ("//", "\\\\", "/\\", "\\/"):
            rest = url  # protocol-relative: the current scheme, someone else's host
        else:
            return Verdict(not loads, Reason.RELATIVE)
        return self._judge_authority(rest.lstrip("/\\"), complete)

    def _judge_authority(self, rest: str, complete: bool) -> Verdict:
        end = len(rest)
        for stop in "/?#":
            found = rest.find(stop)
            if found != -1 and found < end:
                end = found
        if end == len(rest) and not complete:
            return Verdict(False, Reason.HOST)
        authority = rest[:end]
        # A backslash means Markdown and the browser may disagree about where the host is
        # (Markdown unescapes ``\@``, HTML treats ``\`` as ``/``): no reading is trusted.
        if "\\" in authority:
            return Verdict(False, Reason.HOST)
        host = ascii_host(_PORT.sub("", authority.rpartition("@")[2]))
        if host is None:
            return Verdict(False, Reason.HOST)
        if self.allows(host):
            return Verdict(True, Reason.ALLOWED, host)
        return Verdict(False, Reason.HOST, host)


def host_of(raw: str) -> str:
    """The readable host of an absolute or protocol-relative http(s) URL, else ''."""
    return HostPolicy(()).judge(raw, loads=False).host
