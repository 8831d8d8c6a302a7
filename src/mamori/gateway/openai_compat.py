"""One backend for every engine; the engine's ``Dialect`` and the ``Wire`` protocol it names
(OpenAI chat/completions with SSE, or Ollama's native /api/chat with NDJSON) hold the differences.

Hot path, per network read: one decoder ``feed``, one ``orjson.loads`` per event, a handful of
dict lookups and one small slotted event object per delta. No validation models, no logging.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import AsyncGenerator, Callable

import aiohttp
import orjson
import yarl

from mamori.domain.chat import (
    Done,
    StreamEvent,
    UpstreamRequest,
)
from mamori.domain.endpoint import Endpoint
from mamori.errors import (
    ConfigError,
    UpstreamError,
    UpstreamNoAnswerError,
    UpstreamProtocolError,
    UpstreamStatusError,
    UpstreamTimeoutError,
    UpstreamUnavailableError,
)
from mamori.gateway.chunks import BadChunk, StreamProgress
from mamori.gateway.dialects import Dialect, get_dialect
from mamori.gateway.egress import EgressConnector, EgressControl
from mamori.gateway.watchdog import ReadWatchdog
from mamori.gateway.wire import WIRES, Wire

# An error body is for diagnosis only, and engines may echo the whole prompt in it.
_MAX_ERROR_BODY = 8192
_MAX_MODEL_LIST = 4 * 1024 * 1024
# After [DONE], waiting this long for the end of the HTTP body lets the pooled connection be
# reused; a server that keeps the body open past it only costs a fresh connection.
_DRAIN_SECONDS = 1.0


def make_http_client(
    connect_timeout: float, egress: EgressControl | None = None
) -> aiohttp.ClientSession:
    """The shared, pooled client for all engines. Create it inside the running event loop.

    aiohttp rather than httpx on this path: httpcore's pool re-scans every pooled connection on
    each request start and end, which at 200 concurrent streams used 94% of a core (measured
    with bench/gateway_overhead.py and py-spy). No overall or read timeout here: backends
    enforce first-byte and idle timeouts themselves. ``trust_env`` is off so that prompts never
    take a proxy route nobody configured in mamori; no cookies are kept between engines. With
    ``egress`` (the server always passes one) only the endpoints it allows can be reached.
    """
    connector = (
        EgressConnector(egress, limit=0, keepalive_timeout=60.0)
        if egress is not None
        else aiohttp.TCPConnector(limit=0, keepalive_timeout=60.0)
    )
    return aiohttp.ClientSession(
        connector=connector,
        timeout=aiohttp.ClientTimeout(total=None, connect=connect_timeout),
        cookie_jar=aiohttp.DummyCookieJar(),
        auto_decompress=False,
        trust_env=False,
    )


def backend_factory(
    client: aiohttp.ClientSession, *, first_byte_timeout: float, idle_timeout: float
) -> Callable[[Endpoint], OpenAICompatBackend]:
    """Builds the backend of any configured endpoint: its dialect (and through it the wire
    protocol), and its key from the environment variable the endpoint names."""

    def build(endpoint: Endpoint) -> OpenAICompatBackend:
        return OpenAICompatBackend(
            endpoint,
            get_dialect(endpoint.dialect),
            client,
            api_key=os.environ.get(endpoint.api_key_env) if endpoint.api_key_env else None,
            first_byte_timeout=first_byte_timeout,
            idle_timeout=idle_timeout,
        )

    return build


class OpenAICompatBackend:
    """A ``ChatBackend`` for any engine that serves OpenAI chat/completions with SSE streaming,
    or, for a dialect with ``protocol="ollama"``, Ollama's native /api/chat."""

    __slots__ = (
        "_chat_url",
        "_client",
        "_dialect",
        "_first_byte_timeout",
        "_headers",
        "_idle_timeout",
        "_models_timeout",
        "_models_url",
        "_owns_client",
        "_secret",
        "_wire",
        "endpoint",
    )

    def __init__(
        self,
        endpoint: Endpoint,
        dialect: Dialect,
        client: aiohttp.ClientSession,
        *,
        api_key: str | None = None,
        first_byte_timeout: float,
        idle_timeout: float,
        owns_client: bool = False,
    ) -> None:
        self.endpoint = endpoint
        self._dialect = dialect
        self._wire: Wire = WIRES[dialect.protocol]
        self._client = client
        self._owns_client = owns_client
        self._first_byte_timeout = first_byte_timeout
        self._idle_timeout = idle_timeout
        base = self._wire.base_url(endpoint.base_url)
        try:
            self._chat_url = yarl.URL(base + self._wire.chat_path)
            self._models_url = yarl.URL(base + self._wire.models_path)
        except (ValueError, TypeError) as exc:
            raise ConfigError(f"endpoint {endpoint.name!r} has an invalid base_url") from exc
        if self._chat_url.scheme not in ("http", "https") or not self._chat_url.host:
            raise ConfigError(f"endpoint {endpoint.name!r} needs an http(s) base_url")
        # Body bytes are parsed as they arrive, so compressed bodies must not be negotiated.
        self._headers = {
            "Accept": self._wire.accept,
            "Accept-Encoding": "identity",
            "Content-Type": "application/json",
        }
        self._secret = _checked_api_key(endpoint.name, api_key)
        if self._secret:
            self._headers["Authorization"] = f"Bearer {self._secret}"
        self._models_timeout = aiohttp.ClientTimeout(
            total=first_byte_timeout, connect=client.timeout.connect
        )

    async def stream(self, request: UpstreamRequest) -> AsyncGenerator[StreamEvent, None]:
        wire, dialect = self._wire, self._dialect
        body = orjson.dumps(wire.build_body(dialect, request, True))
        read = wire.read
        watchdog = ReadWatchdog(asyncio.get_running_loop(), self._first_byte_timeout)
        progress = StreamProgress()
        pending: list[StreamEvent] = []
        try:
            watchdog.arm()
            async with await self._post(body) as response:
                # A redirect is an error too: it is never followed (see _post).
                if response.status >= 300:
                    raise await self._status_error(response)
                watchdog.disarm()
                decoder = wire.decoder()
                content = response.content
                while not progress.done:
                    watchdog.arm()
                    try:
                        raw = await content.readany()
                    finally:
                        watchdog.disarm()
                    if not raw:
                        read(dialect, decoder.flush(), pending, progress)
                        break
                    if not progress.got_bytes:
                        progress.got_bytes = True
                        watchdog.set_limit(self._idle_timeout)
                    read(dialect, decoder.feed(raw), pending, progress)
                    if pending:
                        for event in pending:
                            yield event
                        pending.clear()
                if not progress.done and progress.finish_reason is None:
                    raise UpstreamProtocolError(
                        f"engine {self.endpoint.name!r} closed the stream before finishing"
                    )
                pending.extend(progress.end_events())
                for event in pending:
                    yield event
                if progress.lacks_answer():
                    # Before the usage event: with nothing streamed, the client gets a plain
                    # error; the turn's usage is then estimated.
                    raise UpstreamNoAnswerError(
                        f"engine {self.endpoint.name!r} gave no answer (reasoning only, or none)"
                    )
                if progress.usage is not None:
                    yield progress.usage
                yield Done(progress.final_reason())
                if progress.done:
                    await _drain(content, watchdog)
        except BadChunk as exc:
            raise UpstreamProtocolError(f"engine {self.endpoint.name!r} sent {exc}") from None
        except asyncio.CancelledError:
            if watchdog.owns_cancellation():
                raise self._timeout_error(progress.got_bytes) from None
            raise
        except (aiohttp.ClientError, OSError) as exc:
            raise self._transport_error(exc) from None
        finally:
            watchdog.close()

    async def _post(self, body: bytes) -> aiohttp.ClientResponse:
        try:
            return await self._post_once(body)
        except (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError) as exc:
            if isinstance(exc, aiohttp.ClientConnectorError):
                raise
            # Usually a pooled connection the engine closed while it sat idle (a restart, a
            # keep-alive limit): one retry on a fresh connection. Rarely the engine dropped the
            # connection after reading the request, and the retry starts a second generation;
            # the client still receives only one answer, since nothing was streamed yet.
            return await self._post_once(body)

    async def _post_once(self, body: bytes) -> aiohttp.ClientResponse:
        # Redirects are not followed: the policy chose this endpoint, not wherever it points.
        return await self._client.post(
            self._chat_url, data=body, headers=self._headers, allow_redirects=False
        )

    async def list_models(self) -> list[str]:
        try:
            async with self._client.get(
                self._models_url,
                headers=self._headers,
                timeout=self._models_timeout,
                allow_redirects=False,
            ) as response:
                raw = await _read_limited(response.content, _MAX_MODEL_LIST)
                status = response.status
        except (aiohttp.ClientError, OSError, TimeoutError) as exc:
            raise self._transport_error(exc) from None
        if status >= 300:
            text = raw[:_MAX_ERROR_BODY].decode("utf-8", "replace")
            raise UpstreamStatusError(
                f"engine {self.endpoint.name!r} answered HTTP {status} to {self._wire.models_path}",
                status=status,
                body=self._redact(text),
            )
        try:
            listing = orjson.loads(raw)
            return self._wire.model_names(listing)
        except (orjson.JSONDecodeError, KeyError, TypeError, AttributeError) as exc:
            raise UpstreamProtocolError(
                f"engine {self.endpoint.name!r} sent an unreadable model list"
            ) from exc

    async def aclose(self) -> None:
        if self._owns_client:
            await self._client.close()

    # --- failures ------------------------------------------------------------------------------

    async def _status_error(self, response: aiohttp.ClientResponse) -> UpstreamStatusError:
        collected = await _read_limited(response.content, _MAX_ERROR_BODY)
        text = collected.decode("utf-8", "replace")
        return UpstreamStatusError(
            f"engine {self.endpoint.name!r} answered HTTP {response.status}",
            status=response.status,
            body=self._redact(text),
        )

    def _timeout_error(self, got_bytes: bool) -> UpstreamTimeoutError:
        if got_bytes:
            return UpstreamTimeoutError(
                f"engine {self.endpoint.name!r} sent nothing for {self._idle_timeout:g}s"
            )
        return UpstreamTimeoutError(
            f"engine {self.endpoint.name!r} sent no first byte within {self._first_byte_timeout:g}s"
        )

    def _transport_error(self, exc: BaseException) -> UpstreamError:
        # Chaining is cut (``from None``) and the text redacted: some transport errors quote
        # header values, and the Authorization header holds the key.
        detail = self._redact(f"{type(exc).__name__}: {exc}")
        name = self.endpoint.name
        if isinstance(exc, aiohttp.ClientConnectorError | aiohttp.ConnectionTimeoutError):
            return UpstreamUnavailableError(f"cannot reach engine {name!r} ({detail})")
        if isinstance(exc, TimeoutError):
            return UpstreamTimeoutError(f"engine {name!r} timed out ({detail})")
        return UpstreamProtocolError(f"connection to engine {name!r} broke ({detail})")

    def _redact(self, text: str) -> str:
        return text.replace(self._secret, "[redacted]") if self._secret else text


def _checked_api_key(endpoint_name: str, api_key: str | None) -> str:
    if not api_key:
        return ""
    key = api_key.strip()
    # A control character (say, a newline from a key file) would make the HTTP library reject
    # the header with an error quoting it; refuse it here, without quoting it.
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in key):
        raise ConfigError(f"the API key for endpoint {endpoint_name!r} has control characters")
    return key


async def _read_limited(content: aiohttp.StreamReader, limit: int) -> bytes:
    collected = bytearray()
    while len(collected) < limit:
        piece = await content.read(limit - len(collected))
        if not piece:
            break
        collected += piece
    return bytes(collected)


async def _drain(content: aiohttp.StreamReader, watchdog: ReadWatchdog) -> None:
    """Read to the end of the HTTP body after the end of the answer ([DONE], or Ollama's
    ``done`` line), so the connection goes back to the pool."""
    watchdog.set_limit(min(watchdog.limit, _DRAIN_SECONDS))
    try:
        while True:
            watchdog.arm()
            try:
                if not await content.readany():
                    return
            finally:
                watchdog.disarm()
    except asyncio.CancelledError:
        if not watchdog.owns_cancellation():
            raise
    except (aiohttp.ClientError, OSError):
        pass  # the answer is complete; only the connection is lost
