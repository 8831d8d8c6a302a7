"""Secrets that identify people: password hashing and random tokens. Nothing here is stored."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

API_KEY_PREFIX = "mk-"
MIN_PASSWORD_LENGTH = 12

_hasher = PasswordHasher()
# Verifying against this keeps the time of "no such user" equal to "wrong password".
_DUMMY_HASH = _hasher.hash("mamori-dummy-password-for-timing")


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def generate_password() -> str:
    # 20 URL-safe characters: about 120 bits, easy to paste, no ambiguous punctuation.
    return secrets.token_urlsafe(15)


def check_password_strength(password: str) -> str | None:
    """A reason the password is unacceptable, or None."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"password must have at least {MIN_PASSWORD_LENGTH} characters"
    return None


def hash_token(token: str) -> str:
    """API keys and session tokens are random and long, so a fast unsalted hash is enough."""
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True, slots=True)
class NewApiKey:
    plaintext: str  # shown once, never stored
    key_hash: str
    prefix: str  # shown in listings so people can tell keys apart


def generate_api_key() -> NewApiKey:
    plaintext = API_KEY_PREFIX + secrets.token_urlsafe(32)
    return NewApiKey(plaintext=plaintext, key_hash=hash_token(plaintext), prefix=plaintext[:10])


def generate_session_token() -> str:
    return secrets.token_urlsafe(32)
