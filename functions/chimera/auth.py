"""Verifying Supabase access tokens: HS256 with the project secret, or asymmetric keys from JWKS.

Only the algorithms we hold a key for are accepted, so `alg: none` and algorithm confusion (an
HS256 token "signed" with a public key) are refused before any signature check.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from typing import Any

import httpx
import jwt

from chimera import words
from chimera.errors import ChimeraError
from chimera.models import Principal

logger = logging.getLogger(__name__)

ASYMMETRIC_ALGORITHMS = frozenset({"ES256", "RS256", "EdDSA"})
LEEWAY_S = 30  # clock skew between Supabase and us


class AuthError(ChimeraError):
    """The request is not authenticated; ``detail`` tells the person what to do."""

    def __init__(self, detail: str, *, missing: bool = False) -> None:
        super().__init__(detail)
        self.detail = detail
        self.missing = missing


class AuthUnavailable(ChimeraError):
    """The signing keys could not be fetched: not the caller's fault (its sentence is in chimera.words)."""


class JwksCache:
    """The project's public keys, fetched without blocking the event loop and kept for a while.

    An unknown ``kid`` triggers one refetch (keys rotate), at most every ``min_refetch_s``.
    """

    def __init__(self, url: str, *, ttl_s: float = 600, min_refetch_s: float = 30) -> None:
        self._url = url
        self._ttl_s = ttl_s
        self._min_refetch_s = min_refetch_s
        self._keys: dict[str, jwt.PyJWK] = {}
        self._fetched_at = float("-inf")
        self._failed_at = float("-inf")
        self._lock = asyncio.Lock()

    async def key_for(self, kid: str | None) -> jwt.PyJWK:
        age = time.monotonic() - self._fetched_at
        if age > self._ttl_s or (kid not in self._keys and age > self._min_refetch_s):
            await self._refresh()
        key = self._keys.get(kid or "")
        if key is None:
            raise AuthError(words.TOKEN_UNKNOWN_KEY)
        return key

    async def _refresh(self) -> None:
        async with self._lock:
            now = time.monotonic()
            if now - self._fetched_at < 1:  # another request just did it
                return
            if now - self._failed_at < self._min_refetch_s:  # do not queue every request on an outage
                if not self._keys:
                    raise AuthUnavailable("could not fetch the signing keys")
                return
            try:
                async with httpx.AsyncClient(timeout=5) as client:
                    response = await client.get(self._url)
                    response.raise_for_status()
                keys = jwt.PyJWKSet.from_dict(response.json()).keys
            except (httpx.HTTPError, ValueError, jwt.PyJWKSetError) as exc:
                logger.error("could not fetch signing keys", extra={"error": type(exc).__name__})
                self._failed_at = time.monotonic()
                if not self._keys:
                    raise AuthUnavailable("could not fetch the signing keys") from exc
                return  # keep serving with the keys we have
            self._keys = {k.key_id: k for k in keys if k.key_id}
            self._fetched_at = time.monotonic()


class TokenVerifier:
    def __init__(self, *, hs256_secret: str | None, jwks: JwksCache | None, audience: str) -> None:
        self._secret = hs256_secret
        self._jwks = jwks
        self._audience = audience

    async def verify(self, token: str) -> Principal:
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise AuthError(words.TOKEN_MALFORMED) from exc
        algorithm, kid = header.get("alg"), header.get("kid")
        if not isinstance(algorithm, str) or not isinstance(kid, str | None):
            raise AuthError(words.TOKEN_MALFORMED)
        key: Any
        if algorithm == "HS256" and self._secret is not None:
            key = self._secret
        elif algorithm in ASYMMETRIC_ALGORITHMS and self._jwks is not None:
            key = await self._jwks.key_for(kid)
        else:
            raise AuthError(words.TOKEN_ALGORITHM)
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=[algorithm],
                audience=self._audience,
                leeway=LEEWAY_S,
                options={"require": ["exp", "sub", "aud"]},
            )
        except jwt.ExpiredSignatureError as exc:
            raise AuthError(words.TOKEN_EXPIRED) from exc
        except jwt.InvalidAudienceError as exc:
            raise AuthError(words.TOKEN_WRONG_AUDIENCE) from exc
        except jwt.PyJWTError as exc:
            raise AuthError(words.TOKEN_INVALID) from exc
        user_id = _canonical_uuid(claims.get("sub"))
        if user_id is None:
            raise AuthError(words.TOKEN_NO_USER)  # Supabase user ids are UUIDs
        return Principal(user_id=user_id, claims=claims)


def _canonical_uuid(subject: object) -> str | None:
    """``sub`` in the one spelling Postgres prints (lower case, hyphens), or None if it is no UUID.

    Python accepts upper case, braces, no hyphens and ``urn:uuid:``; Postgres compares
    ``auth.uid()::text`` with the stored ``user_id`` as text, so every spelling must become one.
    """
    if not isinstance(subject, str) or len(subject) > 64:
        return None
    try:
        return str(uuid.UUID(subject))
    except ValueError:
        return None
