"""Secret link tokens that are never stored: derived from a random per-row value and the
project's SECRET_KEY, so a copy of the database alone opens no customer's booking and no staff
member's calendar feed (the way API keys are kept only as hashes).

`link_token` makes the token for a link (an email, a feed URL); `link_token_matches` checks a
presented one against SECRET_KEY and each of SECRET_KEY_FALLBACKS (links keep working across a
key rotation), in constant time. `legacy_hash` is the SHA-256 kept for tokens issued before the
derivation, so links already sent keep working.
"""

from __future__ import annotations

import base64
import hashlib
import secrets

from django.conf import settings
from django.utils.crypto import salted_hmac


def link_token(purpose: str, *parts: str, secret: str | None = None) -> str:
    mac = salted_hmac(
        f"creneau.link.{purpose}", ":".join(parts), secret=secret or settings.SECRET_KEY,
        algorithm="sha256",
    )  # fmt: skip
    return base64.urlsafe_b64encode(mac.digest()).rstrip(b"=").decode()


def link_token_matches(presented: str, purpose: str, *parts: str) -> bool:
    keys = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return any(
        secrets.compare_digest(presented.encode(), link_token(purpose, *parts, secret=k).encode())
        for k in keys
    )


def legacy_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def legacy_matches(presented: str, stored_hash: str) -> bool:
    return bool(stored_hash) and secrets.compare_digest(legacy_hash(presented), stored_hash)
