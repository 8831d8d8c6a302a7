"""The session cookie and the CSRF token derived from it.

The cookie carries a random session token signed with the installation's secret; the database
holds only the token's hash, so logging out (or an admin disabling the user) ends the session.
"""

from __future__ import annotations

import hashlib
import hmac

from itsdangerous import BadSignature, URLSafeSerializer

COOKIE_NAME = "mamori_session"
LANG_COOKIE = "mamori_lang"
CSRF_HEADER = "x-csrf-token"


class SessionCodec:
    def __init__(self, secret: str) -> None:
        self._serializer = URLSafeSerializer(secret, salt="mamori.session")
        self._csrf_key = hashlib.sha256(b"mamori.csrf:" + secret.encode()).digest()

    def encode(self, token: str) -> str:
        return self._serializer.dumps(token)

    def decode(self, cookie: str) -> str | None:
        try:
            value = self._serializer.loads(cookie)
        except BadSignature:
            return None
        return value if isinstance(value, str) else None

    def csrf_token(self, session_token: str) -> str:
        return hmac.new(self._csrf_key, session_token.encode(), hashlib.sha256).hexdigest()

    def csrf_ok(self, session_token: str, presented: str | None) -> bool:
        return presented is not None and hmac.compare_digest(
            self.csrf_token(session_token), presented
        )
