"""The exception tree of mamori.

Every error mamori raises on purpose derives from ``MamoriError`` and carries a stable ``code``
that user interfaces translate (see ``mamori.web.i18n``) and audit records store::

    MamoriError
    ├── ConfigError                 settings or files that stop startup
    │   └── PlaceholderSecretError  a secret left at a known placeholder value
    ├── AuthError                   no valid credentials (HTTP 401)
    ├── ForbiddenError              authenticated but not allowed (HTTP 403)
    │   ├── PolicyDeniedError       the sovereignty policy refuses to send this turn's data to
    │   │                           any endpoint of the model (HTTP 403); the message names
    │   │                           the rule and what to do instead
    │   └── ModelNotInKeyScopeError an API key scoped to other models asked for this one
    ├── EgressDeniedError           an outbound connection to a host that is not a configured
    │                               endpoint was refused
    ├── NotFoundError               no such object, or not visible to this principal (HTTP 404)
    ├── QuotaExceededError          a token quota or request rate limit is used up (HTTP 429,
    │                               ``retry_after`` seconds); the message says when it resets
    ├── StorageFullError            mamori could not write a file it was building (disk full,
    │                               quota of the file system); nothing saved is lost (HTTP 507)
    ├── InvalidRequestError         malformed or unacceptable input (HTTP 400/422)
    │   ├── UnsupportedFeatureError well-formed, but asks for something mamori does not do (400)
    │   └── DocumentRejectedError   a file for a knowledge base that cannot be read: empty,
    │                               too large, unknown type, corrupt, encrypted, no text
    │                               layer, an archive bomb, or too slow to parse (HTTP 422)
    ├── RoutingError                no endpoint can serve the requested model
    │   ├── UnknownModelError       the model does not exist for this principal (HTTP 404)
    │   └── NoHealthyEndpointError  every endpoint of the model is unreachable (HTTP 503)
    └── UpstreamError               an inference engine failed
        ├── UpstreamUnavailableError  connection refused, DNS, connect timeout (HTTP 503)
        ├── UpstreamStatusError       the engine answered an HTTP error status (HTTP 502)
        ├── UpstreamTimeoutError      the engine stopped sending (HTTP 504)
        ├── UpstreamProtocolError     the engine sent something unparseable, or hung up
        │                             mid-stream (HTTP 502)
        ├── UpstreamNoAnswerError     the stream ended cleanly with no answer: only reasoning,
        │                             or nothing at all (HTTP 502); the reasoning is kept on
        │                             the turn for auditors, never moved into the answer
        └── UnrequestedToolCallError  the model called a tool although the request offered
                                      none, e.g. in the workspace, which has no tools (HTTP 502)

``UpstreamNoAnswerError`` and ``UnrequestedToolCallError`` are about what the model wrote, not
about the endpoint: they do not fail over and do not mark the endpoint unhealthy.
"""

from __future__ import annotations


class MamoriError(Exception):
    code = "internal_error"
    http_status = 500
    # Seconds after which the same request may succeed (HTTP Retry-After), when known.
    retry_after: int | None = None
    # The message says what to fix in terms the person who sent it can act on (an
    # administrator's use-case definition): the workspace API sends it beside the localised
    # text, as "detail".
    show_detail: bool = False
    # The form field the problem is in, when there is one, so the page can mark it.
    field: str | None = None

    def __init__(self, message: str = "", *, code: str | None = None) -> None:
        super().__init__(message or self.__class__.__name__)
        if code is not None:
            self.code = code

    @property
    def message(self) -> str:
        return str(self)


class ConfigError(MamoriError):
    code = "config_error"


class PlaceholderSecretError(ConfigError):
    code = "placeholder_secret"


class AuthError(MamoriError):
    code = "unauthenticated"
    http_status = 401


class ForbiddenError(MamoriError):
    code = "forbidden"
    http_status = 403


class PolicyDeniedError(ForbiddenError):
    code = "policy_denied"


class ModelNotInKeyScopeError(ForbiddenError):
    code = "model_not_in_key_scope"


class EgressDeniedError(MamoriError):
    code = "egress_denied"
    http_status = 502


class NotFoundError(MamoriError):
    code = "not_found"
    http_status = 404


class QuotaExceededError(MamoriError):
    """``code`` is ``quota_exceeded`` for token quotas and ``rate_limited`` for requests per
    minute."""

    code = "quota_exceeded"
    http_status = 429

    def __init__(self, message: str, *, code: str | None = None, retry_after: int) -> None:
        super().__init__(message, code=code)
        self.retry_after = retry_after


RATE_LIMITED = "rate_limited"


class StorageFullError(MamoriError):
    code = "storage_full"
    http_status = 507


class InvalidRequestError(MamoriError):
    code = "invalid_request"
    http_status = 400


class UnsupportedFeatureError(InvalidRequestError):
    code = "unsupported_feature"


class DocumentRejectedError(InvalidRequestError):
    """``code`` says why, and is one of ``REASONS``; the batch it came in goes on."""

    code = "document_rejected"
    http_status = 422
    REASONS = (
        "empty_file",
        "file_too_large",
        "unsupported_file_type",
        "corrupt_file",
        "encrypted_file",
        "no_text_layer",
        "archive_bomb",
        "parse_timeout",
    )


class RoutingError(MamoriError):
    code = "no_route"
    http_status = 503


class UnknownModelError(RoutingError):
    code = "model_not_found"
    http_status = 404


class NoHealthyEndpointError(RoutingError):
    code = "no_healthy_endpoint"
    http_status = 503


class UpstreamError(MamoriError):
    code = "upstream_error"
    http_status = 502


class UpstreamUnavailableError(UpstreamError):
    code = "engine_unavailable"
    http_status = 503


class UpstreamStatusError(UpstreamError):
    code = "engine_http_error"
    http_status = 502

    def __init__(self, message: str, *, status: int, body: str = "") -> None:
        super().__init__(message)
        self.status = status
        # Truncated: an engine error body can echo the whole prompt back.
        self.body = body[:500]


class UpstreamTimeoutError(UpstreamError):
    code = "engine_timeout"
    http_status = 504


class UpstreamProtocolError(UpstreamError):
    code = "engine_stream_broken"
    http_status = 502


class UpstreamNoAnswerError(UpstreamError):
    code = "engine_no_answer"
    http_status = 502


class UnrequestedToolCallError(UpstreamError):
    code = "engine_unrequested_tool_call"
    http_status = 502


def _all_subclasses(cls: type[MamoriError]) -> list[type[MamoriError]]:
    result = [cls]
    for sub in cls.__subclasses__():
        result.extend(_all_subclasses(sub))
    return result


def http_status_for(code: str) -> int:
    """The HTTP status that goes with an error code, for errors carried as data (ErrorEvent)."""
    if code == RATE_LIMITED:
        return QuotaExceededError.http_status
    for cls in _all_subclasses(MamoriError):
        if cls.code == code:
            return cls.http_status
    return 500
