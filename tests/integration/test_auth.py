"""Every bad token gets a 401 with WWW-Authenticate, never a 500; good ones act as their person."""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import Iterator
from typing import Any

import httpx
import jwt
import pytest
from chimera import words
from chimera.auth import AuthError, JwksCache, TokenVerifier

from tests.conftest import JWT_SECRET, LOCAL_USER
from tests.support.jwks import JwksServer

NOW = int(time.time())
GOOD = {"sub": LOCAL_USER, "aud": "authenticated", "role": "authenticated", "exp": NOW + 600}


def b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def unsigned(claims: dict[str, Any]) -> str:
    return f"{b64({'alg': 'none', 'typ': 'JWT'})}.{b64(claims)}."


# Each bad token, and the sentence its 401 says.
BAD_TOKENS = {
    "alg none": (unsigned(GOOD), words.TOKEN_ALGORITHM),
    "wrong secret": (
        jwt.encode(GOOD, "another-secret-another-secret-another-secret", algorithm="HS256"),
        words.TOKEN_INVALID,
    ),
    "wrong algorithm": (jwt.encode(GOOD, JWT_SECRET, algorithm="HS512"), words.TOKEN_ALGORITHM),
    "wrong audience": (
        jwt.encode(GOOD | {"aud": "anon-service"}, JWT_SECRET, algorithm="HS256"),
        words.TOKEN_WRONG_AUDIENCE,
    ),
    "expired": (jwt.encode(GOOD | {"exp": NOW - 3600}, JWT_SECRET, algorithm="HS256"), words.TOKEN_EXPIRED),
    "no expiry": (
        jwt.encode({k: v for k, v in GOOD.items() if k != "exp"}, JWT_SECRET, algorithm="HS256"),
        words.TOKEN_INVALID,
    ),
    "no subject": (
        jwt.encode({k: v for k, v in GOOD.items() if k != "sub"}, JWT_SECRET, algorithm="HS256"),
        words.TOKEN_INVALID,
    ),
    "malformed": ("not.a.jwt", words.TOKEN_MALFORMED),
    "subject not a user id": (
        jwt.encode(GOOD | {"sub": "not-a-uuid"}, JWT_SECRET, algorithm="HS256"),
        words.TOKEN_NO_USER,
    ),
    "algorithm not a string": (f"{b64({'alg': ['HS256'], 'typ': 'JWT'})}.{b64(GOOD)}.c2ln", words.TOKEN_MALFORMED),
    "non-latin algorithm": (f"{b64({'alg': 'HS256☃', 'typ': 'JWT'})}.{b64(GOOD)}.c2ln", words.TOKEN_ALGORITHM),
    "garbage": ("abc", words.TOKEN_MALFORMED),
}


@pytest.mark.parametrize("case", sorted(BAD_TOKENS))
@pytest.mark.parametrize(
    ("method", "path"),
    [("POST", "/api/chat"), ("GET", "/api/conversations"), ("GET", "/api/conversations/x"), ("GET", "/api/usage")],
)
def test_bad_tokens_get_401(anonymous: httpx.Client, case: str, method: str, path: str) -> None:
    token, sentence = BAD_TOKENS[case]
    headers = {"Authorization": f"Bearer {token}"}
    response = anonymous.request(method, path, headers=headers, json={"message": "hi"})

    assert response.status_code == 401, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert response.headers["www-authenticate"] == (
        f'Bearer realm="chimera", error="invalid_token", error_description="{sentence}"'
    )
    assert response.json()["detail"] == sentence


def test_missing_token_gets_401_without_an_error_code(anonymous: httpx.Client) -> None:
    response = anonymous.get("/api/conversations")

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer realm="chimera"'
    assert response.json()["detail"] == (
        "Please sign in: this request needs an access token (Authorization: Bearer …)."
    )


def test_a_good_token_is_accepted_and_health_needs_none(anonymous: httpx.Client) -> None:
    good = jwt.encode(GOOD, JWT_SECRET, algorithm="HS256")
    assert anonymous.get("/api/conversations", headers={"Authorization": f"Bearer {good}"}).status_code == 200
    assert anonymous.get("/api/health").status_code == 200


def test_the_dev_route_hands_out_a_working_token(anonymous: httpx.Client) -> None:
    issued = anonymous.post("/api/dev/token").json()

    assert issued["userId"] == LOCAL_USER
    headers = {"Authorization": f"Bearer {issued['accessToken']}"}
    assert anonymous.get("/api/usage", headers=headers).status_code == 200


@pytest.fixture(scope="module")
def jwks_server() -> Iterator[JwksServer]:
    with JwksServer() as server:
        yield server


def verify(verifier: TokenVerifier, token: str) -> str:
    return asyncio.run(verifier.verify(token)).user_id


def test_asymmetric_tokens_verify_against_the_jwks(jwks_server: JwksServer) -> None:
    verifier = TokenVerifier(
        hs256_secret=None,
        jwks=JwksCache(f"{jwks_server.supabase_url}/auth/v1/.well-known/jwks.json"),
        audience="authenticated",
    )
    assert verify(verifier, jwks_server.sign(GOOD)) == LOCAL_USER

    with pytest.raises(AuthError, match="unknown|does not know"):
        verify(verifier, jwks_server.sign(GOOD, kid="rotated-away"))
    with pytest.raises(AuthError, match="expired"):
        verify(verifier, jwks_server.sign(GOOD | {"exp": NOW - 3600}))
    # An HS256 token is refused when no secret is configured, even if "signed" with the public key.
    with pytest.raises(AuthError, match="this algorithm are not accepted"):
        verify(verifier, jwt.encode(GOOD, "public-key-bytes-used-as-a-secret-0123456789", algorithm="HS256"))


SPELLINGS = {
    "upper case": LOCAL_USER.upper(),
    "braces": "{" + LOCAL_USER + "}",
    "no hyphens": LOCAL_USER.replace("-", ""),
    "urn": f"urn:uuid:{LOCAL_USER}",
}


@pytest.mark.parametrize("spelling", sorted(SPELLINGS))
def test_a_user_id_in_another_spelling_is_the_same_person_everywhere(
    anonymous: httpx.Client, db: Any, spelling: str
) -> None:
    """Python reads every spelling as one UUID; Postgres compares canonical text. Both must agree."""
    token = jwt.encode(GOOD | {"sub": SPELLINGS[spelling]}, JWT_SECRET, algorithm="HS256")
    headers = {"Authorization": f"Bearer {token}"}

    with anonymous.stream("POST", "/api/chat", headers=headers, json={"message": "who am I?"}) as response:
        assert response.status_code == 200
        events = [line for line in response.iter_lines() if line.startswith("data: {")]
    assert any('"type":"finish"' in line for line in events), events

    assert db.execute("select distinct user_id from conversations").fetchall() == [(LOCAL_USER,)]
    assert db.execute("select count(*) from messages").fetchone() == (2,)  # question and answer saved
    listed = anonymous.get("/api/conversations", headers=headers).json()["items"]
    assert [c["title"] for c in listed] == ["who am I?"]
