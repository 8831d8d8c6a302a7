"""The Ed25519 key that signs the audit trail's checkpoints.

The private key lives in the data directory (``audit-signing.key``, mode 0600) or at a path the
operator configures, e.g. on a separate volume; it is created on first use. Only the public
half ever leaves the machine: exports carry it, and its fingerprint (``key_id``) is what an
auditor writes down once and compares later. Verification trusts the key on this machine and
any public keys the operator lists (``audit_trusted_keys``, for keys rotated out) — never a key
that merely comes along with the data it is supposed to vouch for.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from mamori.errors import ConfigError

KEY_FILE = "audit-signing.key"


def key_id(public: bytes) -> str:
    """A key's fingerprint: the first 32 hex digits of SHA-256 over its raw 32 bytes."""
    return hashlib.sha256(public).hexdigest()[:32]


@dataclass(frozen=True, slots=True)
class PublicKey:
    raw: bytes

    @property
    def key_id(self) -> str:
        return key_id(self.raw)

    @property
    def hex(self) -> str:
        return self.raw.hex()

    @classmethod
    def from_hex(cls, value: str) -> PublicKey:
        raw = bytes.fromhex(value.strip())
        if len(raw) != 32:
            raise ValueError("an Ed25519 public key is 32 bytes (64 hex digits)")
        return cls(raw)

    def verifies(self, signature_hex: str, payload: bytes) -> bool:
        try:
            Ed25519PublicKey.from_public_bytes(self.raw).verify(
                bytes.fromhex(signature_hex), payload
            )
        except (InvalidSignature, ValueError):
            return False
        return True


class Signer:
    def __init__(self, private: Ed25519PrivateKey) -> None:
        self._private = private
        raw = private.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        self.public = PublicKey(raw)

    @property
    def key_id(self) -> str:
        return self.public.key_id

    def sign(self, payload: bytes) -> str:
        return self._private.sign(payload).hex()


def load_or_create_signer(path: Path) -> Signer:
    """The signing key at ``path``, created (0600, never overwritten) when there is none."""
    if path.exists():
        try:
            private = serialization.load_pem_private_key(path.read_bytes(), password=None)
        except (ValueError, TypeError, OSError) as exc:
            raise ConfigError(f"{path}: not a readable Ed25519 private key ({exc})") from exc
        if not isinstance(private, Ed25519PrivateKey):
            raise ConfigError(f"{path}: the audit signing key must be an Ed25519 key")
        return Signer(private)
    private = Ed25519PrivateKey.generate()
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    # Written whole under another name, then linked into place: a second process starting at
    # the same moment either wins the link or reads a complete key, never half of one.
    temporary = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as out:
        out.write(pem)
        out.flush()
        os.fsync(out.fileno())
    try:
        os.link(temporary, path)
    except FileExistsError:
        return load_or_create_signer(path)
    finally:
        temporary.unlink()
    return Signer(private)


def trusted_keys(signer: Signer | None, extra: list[str]) -> dict[str, PublicKey]:
    """The keys whose checkpoints count, by key id: this machine's and the listed ones."""
    keys = [PublicKey.from_hex(value) for value in extra]
    if signer is not None:
        keys.append(signer.public)
    return {key.key_id: key for key in keys}
