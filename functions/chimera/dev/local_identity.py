"""The local person of `chimera dev` (and of tests): a kept secret and tokens signed with it.

These are ordinary HS256 Supabase-shaped tokens, verified by the same code as production ones.
"""

from __future__ import annotations

import secrets
import time
from pathlib import Path

import jwt

TOKEN_TTL_S = 12 * 3600


def load_or_create_secret(path: Path) -> str:
    """Read the local JWT secret, or create it (readable only by this user) on first run."""
    if path.exists():
        return path.read_text().strip()
    path.parent.mkdir(parents=True, exist_ok=True)
    secret = secrets.token_urlsafe(48)
    path.touch(mode=0o600)
    path.write_text(secret)
    return secret


def issue_token(secret: str, user_id: str, *, ttl_s: int = TOKEN_TTL_S, audience: str = "authenticated") -> str:
    now = int(time.time())
    # A jti makes each token unique: a page that was refused one must be able to tell a new token
    # from the old one, even when both were issued within the same second.
    claims = {
        "sub": user_id,
        "aud": audience,
        "role": "authenticated",
        "iat": now,
        "exp": now + ttl_s,
        "jti": secrets.token_hex(8),
    }
    return jwt.encode(claims, secret, algorithm="HS256")
