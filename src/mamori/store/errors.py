"""Errors raised by the store, so that callers never need to catch SQLAlchemy's exceptions."""

from __future__ import annotations

from mamori.errors import InvalidRequestError


class ConflictError(InvalidRequestError):
    """A unique or foreign-key constraint refused the write (a taken username, a stale id)."""

    code = "conflict"
    http_status = 409
