"""The local person's tokens: ordinary Supabase-shaped HS256 tokens, each one distinct."""

from __future__ import annotations

import jwt
from chimera.dev.local_identity import issue_token

SECRET = "a-local-secret-that-is-long-enough-for-hs256-0123"
USER = "00000000-0000-4000-8000-000000000001"


def test_two_tokens_issued_in_the_same_second_differ() -> None:
    # The page renews a refused token and must tell the new one from the old (api/client.js).
    first, second = issue_token(SECRET, USER), issue_token(SECRET, USER)

    assert first != second
    claims = jwt.decode(first, SECRET, algorithms=["HS256"], audience="authenticated")
    assert claims["sub"] == USER and claims["role"] == "authenticated" and claims["exp"] > claims["iat"]
