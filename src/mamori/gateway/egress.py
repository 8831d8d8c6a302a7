"""Egress control: the gateway connects to the configured endpoints and nowhere else.

Every connection the shared HTTP client opens, redirects included, passes through one
connector that checks its origin against the live endpoint set. Anything else is refused
before a socket is opened, and logged, so a redirect, a mistyped URL in a future feature or a
library that "helps" cannot carry a prompt somewhere the policy never saw.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any
from urllib.parse import urlsplit

import aiohttp
from yarl import URL

from mamori.domain.endpoint import Endpoint
from mamori.errors import EgressDeniedError

log = logging.getLogger(__name__)

Origin = tuple[str, str, int]
_DEFAULT_PORTS = {"http": 80, "https": 443}


def origin_of(url: str) -> Origin:
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower()
    return scheme, host, parts.port or _DEFAULT_PORTS.get(scheme, 0)


class EgressControl:
    """The origins the gateway may reach; replaced whenever the endpoint set changes."""

    def __init__(self, endpoints: Iterable[Endpoint] = ()) -> None:
        self._allowed: frozenset[Origin] = frozenset()
        self.refused_total = 0
        self.allow_only(endpoints)

    def allow_only(self, endpoints: Iterable[Endpoint]) -> None:
        self._allowed = frozenset(origin_of(e.base_url) for e in endpoints)

    @property
    def allowed(self) -> frozenset[Origin]:
        return self._allowed

    def check(self, url: URL | str) -> None:
        scheme, host, port = origin_of(str(url))
        if (scheme, host, port) in self._allowed:
            return
        self.refused_total += 1
        # Host and port only: a URL's path and query can carry data.
        log.warning(
            "refused an outbound connection to %s://%s:%s, which is not a configured endpoint",
            scheme,
            host,
            port,
            extra={"egress_host": host, "egress_port": port},
        )
        raise EgressDeniedError(f"outbound connection to {host}:{port} refused")


class EgressConnector(aiohttp.TCPConnector):
    """A pooled connector that asks ``EgressControl`` before each new connection."""

    def __init__(self, egress: EgressControl, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.egress = egress

    async def connect(self, req: Any, traces: Any, timeout: Any) -> Any:
        self.egress.check(req.url)
        return await super().connect(req, traces, timeout)
