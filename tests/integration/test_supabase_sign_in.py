"""Sign-in through Supabase Auth, against the loopback stand-in: the app accepts its tokens through
SUPABASE_URL (JWKS), and the stand-in answers as GoTrue does (errors, refresh, magic links, logout).

Requests carry what supabase-js sends: ``apikey``, ``X-Supabase-Api-Version: 2024-01-01``.
"""

from __future__ import annotations

import base64
import hashlib
import secrets
import time
import uuid
from collections.abc import Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import psycopg
import pytest
from chimera import words
from chimera.dev.settings import LocalSettings
from chimera.dev.simulator import ProviderSimulator, simulated_answer

from tests.support.jwks import JwksServer
from tests.support.servers import AppServer
from tests.support.sse import iter_events, streamed_text
from tests.support.supabase_auth import API_VERSION, SupabaseAuthStandIn, app_settings_for

PAGE = "http://127.0.0.1:5173"  # where a page would be; the stand-in only redirects to it
PASSWORD = "correct horse battery staple"


@pytest.fixture(scope="module")
def auth() -> Iterator[SupabaseAuthStandIn]:
    with SupabaseAuthStandIn(allowed_origins=[PAGE], refresh_reuse_interval_s=0) as server:
        yield server


@pytest.fixture(scope="module")
def supabase_app(database_url: str, simulator: ProviderSimulator, auth: SupabaseAuthStandIn) -> Iterator[AppServer]:
    """The app as deployed with a Supabase project: no local secret, no dev tokens."""
    settings = app_settings_for(auth, database_url, simulator)
    with AppServer(settings) as server:
        yield server


@pytest.fixture
def gotrue(auth: SupabaseAuthStandIn) -> Iterator[httpx.Client]:
    """A client that calls the stand-in as supabase-js does."""
    headers = {"apikey": auth.publishable_key, "X-Supabase-Api-Version": API_VERSION}
    with httpx.Client(base_url=f"{auth.url}/auth/v1", headers=headers, timeout=10) as client:
        yield client


@pytest.fixture
def app(supabase_app: AppServer) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=supabase_app.url, timeout=30) as client:
        yield client


def person(auth: SupabaseAuthStandIn) -> str:
    email = f"ada+{uuid.uuid4().hex[:8]}@example.org"
    auth.add_user(email, PASSWORD)
    return email


def sign_in(gotrue: httpx.Client, email: str, password: str = PASSWORD) -> httpx.Response:
    return gotrue.post("/token", params={"grant_type": "password"}, json={"email": email, "password": password})


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_the_page_is_told_to_sign_in_with_supabase(app: httpx.Client, auth: SupabaseAuthStandIn) -> None:
    config = app.get("/config.json")

    assert config.status_code == 200
    assert config.json() == {
        "auth": {"provider": "supabase", "url": auth.url, "publishableKey": auth.publishable_key, "magicLink": True}
    }
    assert app.post("/api/dev/token").status_code in (404, 405), "no local person beside Supabase"


def test_the_local_app_tells_the_page_to_use_the_local_person(anonymous: httpx.Client) -> None:
    assert anonymous.get("/config.json").json() == {"auth": {"provider": "local"}}


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"supabase_url": "https://p.supabase.co", "supabase_publishable_key": "sb_publishable_x"}, "supabase"),
        ({"supabase_url": "https://p.supabase.co", "chimera_dev_tokens": False}, "token"),
        ({"chimera_dev_tokens": False}, "token"),
        ({"chimera_dev_tokens": True}, "local"),
    ],
)
def test_which_sign_in_the_settings_choose(overrides: dict[str, Any], expected: str) -> None:
    from chimera.dev.routes import page_config

    settings = LocalSettings(_env_file=None, chimera_stage="test", **overrides)  # type: ignore[call-arg]
    assert page_config(settings).auth.provider == expected


def test_a_signed_in_person_chats_and_the_answer_is_theirs(
    gotrue: httpx.Client, app: httpx.Client, auth: SupabaseAuthStandIn, db: psycopg.Connection[tuple[Any, ...]]
) -> None:
    # Given a person signed in with email and password
    email = person(auth)
    session = sign_in(gotrue, email).json()
    assert session["token_type"] == "bearer" and session["user"]["email"] == email
    assert session["expires_at"] - int(time.time()) == pytest.approx(session["expires_in"], abs=2)

    # When they chat with the access token Supabase gave them
    with app.stream("POST", "/api/chat", json={"message": "Hello there"}, headers=bearer(session["access_token"])) as r:
        assert r.status_code == 200
        events = [received.event for received in iter_events(r)]

    # Then the answer streams, and is saved as theirs (their Supabase user id)
    assert streamed_text(events) == simulated_answer("Hello there")
    owners = db.execute("select distinct user_id from conversations").fetchall()
    assert owners == [(session["user"]["id"],)]
    assert app.get("/api/conversations", headers=bearer(session["access_token"])).status_code == 200


def test_the_tokens_carry_supabase_claims(gotrue: httpx.Client, auth: SupabaseAuthStandIn) -> None:
    import jwt

    session = sign_in(gotrue, person(auth)).json()
    header = jwt.get_unverified_header(session["access_token"])
    claims = jwt.decode(session["access_token"], options={"verify_signature": False})

    assert header["alg"] == "ES256" and header["kid"] == auth.kid
    assert claims["iss"] == f"{auth.url}/auth/v1" and claims["aud"] == "authenticated"
    assert claims["role"] == "authenticated" and claims["sub"] == session["user"]["id"]
    assert uuid.UUID(claims["session_id"]) and claims["aal"] == "aal1" and claims["amr"][0]["method"] == "password"
    user = gotrue.get("/user", headers=bearer(session["access_token"]))
    assert user.status_code == 200 and user.json()["email"] == claims["email"]


def test_a_wrong_password_gets_gotrues_own_error(gotrue: httpx.Client, auth: SupabaseAuthStandIn) -> None:
    email = person(auth)
    for tried in (email, "nobody@example.org"):  # the same answer: no probing for accounts
        response = sign_in(gotrue, tried, "wrong password")
        assert response.status_code == 400
        assert response.json() == {"code": "invalid_credentials", "message": "Invalid login credentials"}
        assert response.headers["x-supabase-api-version"] == API_VERSION

    # A client that sends no API version gets the older body, as GoTrue answers it.
    legacy = gotrue.post(
        "/token",
        params={"grant_type": "password"},
        json={"email": email, "password": "nope"},
        headers={"X-Supabase-Api-Version": ""},
    )
    assert legacy.json() == {"code": 400, "error_code": "invalid_credentials", "msg": "Invalid login credentials"}


def test_an_unconfirmed_email_is_told_so(gotrue: httpx.Client, auth: SupabaseAuthStandIn) -> None:
    auth.add_user("new@example.org", PASSWORD, confirmed=False)

    response = sign_in(gotrue, "new@example.org")

    assert response.json() == {"code": "email_not_confirmed", "message": "Email not confirmed"}


def test_the_gateway_wants_the_projects_api_key(auth: SupabaseAuthStandIn) -> None:
    with httpx.Client(base_url=f"{auth.url}/auth/v1") as raw:
        missing = raw.get("/settings")
        wrong = raw.get("/settings", headers={"apikey": "sb_publishable_someone_else"})
        jwks = raw.get("/.well-known/jwks.json")  # open, as Chimera's verifier fetches it with no key

    assert missing.status_code == 401 and missing.json()["message"] == "No API key found in request"
    assert wrong.status_code == 401 and wrong.json()["message"] == "Invalid API key"
    assert jwks.status_code == 200 and jwks.json()["keys"][0]["kid"] == auth.kid


def test_cors_admits_the_pages_origin(auth: SupabaseAuthStandIn) -> None:
    headers = {
        "Origin": PAGE,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "apikey,authorization,content-type,x-client-info,x-supabase-api-version",
    }
    with httpx.Client(base_url=f"{auth.url}/auth/v1") as raw:
        allowed = raw.options("/token?grant_type=password", headers=headers)
        refused = raw.options("/token?grant_type=password", headers=headers | {"Origin": "https://evil.example"})

    assert allowed.status_code == 200 and allowed.headers["access-control-allow-origin"] == PAGE
    assert refused.status_code == 400


def test_settings_say_email_sign_in_is_on(gotrue: httpx.Client) -> None:
    settings = gotrue.get("/settings").json()

    assert settings["external"]["email"] is True and settings["external"]["google"] is False
    assert settings["disable_signup"] is False


def test_a_refreshed_session_keeps_working_and_its_old_refresh_token_is_spent(
    gotrue: httpx.Client, app: httpx.Client, auth: SupabaseAuthStandIn
) -> None:
    first = sign_in(gotrue, person(auth)).json()

    refreshed = gotrue.post(
        "/token", params={"grant_type": "refresh_token"}, json={"refresh_token": first["refresh_token"]}
    )
    again = gotrue.post(
        "/token", params={"grant_type": "refresh_token"}, json={"refresh_token": first["refresh_token"]}
    )

    assert refreshed.status_code == 200
    second = refreshed.json()
    assert second["access_token"] != first["access_token"] and second["refresh_token"] != first["refresh_token"]
    assert app.get("/api/conversations", headers=bearer(second["access_token"])).status_code == 200
    assert again.json() == {"code": "refresh_token_already_used", "message": "Invalid Refresh Token: Already Used"}


def test_expired_and_foreign_tokens_are_refused_by_the_app(
    app: httpx.Client, auth: SupabaseAuthStandIn, gotrue: httpx.Client
) -> None:
    user = auth.users[person(auth).lower()]
    now = int(time.time())
    claims = {"sub": user.id, "aud": "authenticated", "role": "authenticated", "iat": now - 7200, "exp": now - 3600}
    with JwksServer() as other:
        foreign = other.sign(claims | {"exp": now + 600}, kid="someone-elses-key")

    expired = app.get("/api/conversations", headers=bearer(auth.sign(claims)))
    stranger = app.get("/api/conversations", headers=bearer(foreign))

    assert expired.status_code == 401 and expired.json()["detail"] == words.TOKEN_EXPIRED
    assert stranger.status_code == 401 and stranger.json()["detail"] == words.TOKEN_UNKNOWN_KEY
    assert gotrue.get("/user", headers=bearer(auth.sign(claims))).json()["code"] == "bad_jwt"


def pkce_pair() -> tuple[str, str]:
    verifier = secrets.token_urlsafe(48)
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).decode().rstrip("=")
    return verifier, challenge


def test_a_magic_link_signs_in_once(gotrue: httpx.Client, app: httpx.Client, auth: SupabaseAuthStandIn) -> None:
    # Given a person who asks for a sign-in link (PKCE, as the page does)
    email = f"link+{uuid.uuid4().hex[:8]}@example.org"
    verifier, challenge = pkce_pair()
    sent = gotrue.post(
        "/otp",
        params={"redirect_to": f"{PAGE}/"},
        json={"email": email, "create_user": True, "code_challenge": challenge, "code_challenge_method": "s256"},
    )
    assert sent.status_code == 200 and sent.json() == {}

    # When they click the link in the mail
    link = auth.last_link(email)
    assert link.startswith(f"{auth.url}/auth/v1/verify?token=pkce_") and "type=magiclink" in link
    landing = httpx.get(link)  # a browser, with no API key

    # Then they land on the page with a code the page exchanges for a session
    assert landing.status_code == 303
    location = urlsplit(landing.headers["location"])
    assert f"{location.scheme}://{location.netloc}" == PAGE
    code = parse_qs(location.query)["code"][0]
    wrong = gotrue.post("/token", params={"grant_type": "pkce"}, json={"auth_code": code, "code_verifier": "x" * 43})
    assert wrong.json()["code"] == "bad_code_verifier"
    session = gotrue.post("/token", params={"grant_type": "pkce"}, json={"auth_code": code, "code_verifier": verifier})
    assert session.status_code == 200 and session.json()["user"]["email"] == email
    assert app.get("/api/conversations", headers=bearer(session.json()["access_token"])).status_code == 200

    # And the link works once: a second click lands with GoTrue's error
    again = urlsplit(httpx.get(link).headers["location"])
    assert parse_qs(again.query)["error_code"] == ["otp_expired"]
    assert parse_qs(again.fragment)["error_description"] == ["Email link is invalid or has expired"]


def test_links_are_sent_once_a_minute_and_only_where_enabled(gotrue: httpx.Client, auth: SupabaseAuthStandIn) -> None:
    email = f"busy+{uuid.uuid4().hex[:8]}@example.org"
    assert gotrue.post("/otp", json={"email": email}).status_code == 200

    too_soon = gotrue.post("/otp", json={"email": email})

    assert too_soon.status_code == 429 and too_soon.json()["code"] == "over_email_send_rate_limit"
    assert too_soon.json()["message"].startswith("For security purposes, you can only request this after ")
    auth.magic_link = False
    try:
        disabled = gotrue.post("/otp", json={"email": "other@example.org"})
    finally:
        auth.magic_link = True
    assert disabled.json() == {"code": "email_provider_disabled", "message": "Login with magic link is disabled"}


def test_after_signing_out_the_session_is_gone(gotrue: httpx.Client, auth: SupabaseAuthStandIn) -> None:
    session = sign_in(gotrue, person(auth)).json()

    assert (
        gotrue.post("/logout", params={"scope": "global"}, headers=bearer(session["access_token"])).status_code == 204
    )

    user = gotrue.get("/user", headers=bearer(session["access_token"]))
    assert user.status_code == 403 and user.json()["code"] == "session_not_found"
    refresh = gotrue.post(
        "/token", params={"grant_type": "refresh_token"}, json={"refresh_token": session["refresh_token"]}
    )
    assert refresh.json()["code"] == "refresh_token_not_found"
