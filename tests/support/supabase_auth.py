"""A loopback stand-in for Supabase Auth (GoTrue): what supabase-js v2 calls, answered as Supabase does.

Fake at the edge: the page's real supabase-js, over real HTTP and CORS, signs in against this, and
Chimera verifies its tokens through ``SUPABASE_URL`` exactly as it verifies a project's.

What it speaks (paths under ``/auth/v1``), read from supabase/auth at bc32168 (2026-08-20) and
@supabase/auth-js 2.109.0 (the version frontend/package-lock.json pins), checked 2026-11-26:

- ``POST /token?grant_type=password|refresh_token|pkce`` (internal/api/token.go, token_refresh.go,
  tokens/service.go): an ``AccessTokenResponse`` with the user, or GoTrue's error for a bad
  password, an unconfirmed email, a used or unknown refresh token, a bad PKCE verifier.
- ``POST /otp`` (otp.go, magic_link.go): a magic link, "mailed" to :attr:`outbox` as Supabase's
  local Inbucket/Mailpit would show it; one a minute per address, as GOTRUE_SMTP_MAX_FREQUENCY.
- ``GET /verify`` (verify.go): the link's landing; 303 to ``redirect_to`` with ``?code=`` (PKCE)
  or ``#access_token=…`` (implicit), or with ``error_code=otp_expired`` when used or expired.
- ``GET /user``, ``POST /logout?scope=`` (user.go, logout.go, auth.go), ``GET /settings``,
  ``GET /.well-known/jwks.json`` (jwks.go).

Errors: supabase-js sends ``X-Supabase-Api-Version: 2024-01-01``; GoTrue then answers
``{"code": "<error_code>", "message": …}`` and echoes the header, and older clients get
``{"code": <status>, "error_code": …, "msg": …}`` (errors.go). The ``apikey`` header is checked
by Supabase's API gateway, not GoTrue; its refusals are ``{"message": "No API key found in
request", …}`` and ``{"message": "Invalid API key", …}`` (bodies as reported in supabase issues).
The gateway leaves ``/verify`` (a link clicked in a mail client) and the JWKS open.

Tokens are ES256, signed with the key the JWKS publishes, with Supabase's claims (``iss``, ``sub``
a UUID, ``aud`` "authenticated", ``role``, ``email``, ``session_id``, ``aal``, ``amr``…).
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
import threading
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

import jwt
import uvicorn
from chimera.dev.settings import LocalSettings
from chimera.dev.simulator import ProviderSimulator
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.cors import CORSMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from tests.conftest import make_settings
from tests.support.servers import free_port

API_VERSION = "2024-01-01"  # the only dated version GoTrue knows (apiversions.go)
PUBLISHABLE_KEY = "sb_publishable_standin_not_a_secret"  # the stand-in's own; Supabase's start sb_publishable_
INVALID_LOGIN = "Invalid login credentials"  # token.go InvalidLoginMessage
LINK_INVALID = "Email link is invalid or has expired"  # verify.go verifyTokenHash
# GoTrue's CORS (api.go) plus the gateway's apikey; supabase-js sends all of these.
ALLOWED_HEADERS = [
    "Accept",
    "Authorization",
    "Content-Type",
    "X-Client-IP",
    "X-Client-Info",
    "X-JWT-AUD",
    "x-use-cookie",
    "X-Supabase-Api-Version",
    "apikey",
]
OPEN_PATHS = frozenset({"/auth/v1/verify", "/auth/v1/.well-known/jwks.json"})


class GoTrueError(Exception):
    """One of GoTrue's ``HTTPError``s: status, error code and the message a person may see."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@dataclass
class StandInUser:
    id: str
    email: str
    password: str | None
    confirmed: bool = True
    created_at: float = field(default_factory=time.time)
    last_sign_in_at: float | None = None


@dataclass(frozen=True)
class Email:
    """A mail the stand-in "sent": what Inbucket/Mailpit would show for it."""

    to: str
    subject: str
    link: str
    sent_at: float


@dataclass
class _RefreshToken:
    session_id: str
    revoked_at: float | None = None
    child: str | None = None


@dataclass
class _MagicLink:
    user_id: str
    redirect_to: str
    sent_at: float
    code_challenge: str | None
    code_challenge_method: str | None


@dataclass
class _FlowState:
    user_id: str
    code_challenge: str
    code_challenge_method: str
    created_at: float


@dataclass(frozen=True)
class Grant:
    """A token the stand-in issued, for tests to assert on (which grant, for whom)."""

    grant_type: str
    email: str
    access_token: str
    refresh_token: str


def _iso(ts: float | None) -> str | None:
    return None if ts is None else datetime.fromtimestamp(ts, UTC).isoformat().replace("+00:00", "Z")


def _b64url_sha256(text: str) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).decode().rstrip("=")


class SupabaseAuthStandIn:
    """The stand-in on a free loopback port; ``url`` is what ``SUPABASE_URL`` should be.

    ``access_token_ttl_s`` may be changed at any time (a test shortens it to see a refresh).
    ``allowed_origins`` are the page origins CORS admits (Supabase's gateway admits any: ``*``).
    """

    def __init__(
        self,
        *,
        publishable_key: str = PUBLISHABLE_KEY,
        access_token_ttl_s: int = 3600,
        allowed_origins: Iterable[str] = ("*",),
        magic_link: bool = True,
        site_url: str | None = None,
        email_interval_s: float = 60,
        link_ttl_s: float = 3600,
        refresh_reuse_interval_s: float = 10,
    ) -> None:
        self.publishable_key = publishable_key
        self.access_token_ttl_s = access_token_ttl_s
        self.magic_link = magic_link
        self.site_url = site_url
        self.email_interval_s = email_interval_s
        self.link_ttl_s = link_ttl_s
        self.refresh_reuse_interval_s = refresh_reuse_interval_s
        # A list the CORS middleware keeps a reference to, so allow_origin works after start.
        self.allowed_origins = list(allowed_origins)
        self.kid = f"standin-{secrets.token_hex(4)}"
        self._private_key = ec.generate_private_key(ec.SECP256R1())
        public = json.loads(ECAlgorithm.to_jwk(self._private_key.public_key()))
        self.jwks = {"keys": [public | {"kid": self.kid, "alg": "ES256", "use": "sig", "key_ops": ["verify"]}]}
        self.users: dict[str, StandInUser] = {}  # by lower-case email
        self.outbox: list[Email] = []
        self.grants: list[Grant] = []
        self.requests: list[tuple[str, str]] = []  # (method, path with query), for tests
        self._sessions: dict[str, str] = {}  # session id -> user id
        self._refresh: dict[str, _RefreshToken] = {}
        self._links: dict[str, _MagicLink] = {}
        self._flows: dict[str, _FlowState] = {}  # by auth code
        self._lock = threading.Lock()
        self.port = free_port()
        app = Starlette(
            routes=[
                Route("/auth/v1/token", self._token, methods=["POST"]),
                Route("/auth/v1/otp", self._otp, methods=["POST"]),
                Route("/auth/v1/verify", self._verify, methods=["GET"]),
                Route("/auth/v1/user", self._user, methods=["GET"]),
                Route("/auth/v1/logout", self._logout, methods=["POST"]),
                Route("/auth/v1/settings", self._settings, methods=["GET"]),
                Route("/auth/v1/.well-known/jwks.json", self._jwks, methods=["GET"]),
            ],
            middleware=[
                Middleware(
                    CORSMiddleware,
                    allow_origins=self.allowed_origins,
                    allow_methods=["GET", "POST", "PUT", "PATCH", "DELETE"],
                    allow_headers=ALLOWED_HEADERS,
                    expose_headers=["X-Total-Count", "Link", "X-Supabase-Api-Version"],
                ),
                Middleware(_ApiKeyGate, key=publishable_key, record=self.requests.append),
            ],
            exception_handlers={GoTrueError: self._gotrue_error},
        )
        self._server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning"))
        self._thread = threading.Thread(target=self._server.run, name="supabase-auth-standin", daemon=True)

    # --- For tests ------------------------------------------------------------------------------

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def issuer(self) -> str:
        return f"{self.url}/auth/v1"

    def allow_origin(self, origin: str) -> None:
        """Admit a page origin known only after the stand-in was built (the app's port)."""
        self.allowed_origins.append(origin)

    def add_user(self, email: str, password: str | None, *, confirmed: bool = True) -> StandInUser:
        user = StandInUser(id=str(uuid.uuid4()), email=email.lower(), password=password, confirmed=confirmed)
        with self._lock:
            self.users[user.email] = user
        return user

    def end_sessions(self, email: str) -> None:
        """Sign the person out everywhere, as an admin (or their other device's global sign-out) does."""
        user = self.users[email.lower()]
        with self._lock:
            for session_id, owner in list(self._sessions.items()):
                if owner == user.id:
                    del self._sessions[session_id]

    def last_link(self, email: str) -> str:
        """The link in the newest mail to ``email``: what a person would click."""
        mails = [m for m in self.outbox if m.to == email.lower()]
        assert mails, f"no mail was sent to {email}"
        return mails[-1].link

    def grant_types(self) -> list[str]:
        return [g.grant_type for g in self.grants]

    def sign(self, claims: dict[str, Any]) -> str:
        return jwt.encode(claims, self._private_key, algorithm="ES256", headers={"kid": self.kid, "typ": "JWT"})

    def __enter__(self) -> SupabaseAuthStandIn:
        self._thread.start()
        deadline = time.monotonic() + 15
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("the Supabase Auth stand-in did not start")
            time.sleep(0.01)
        return self

    def __exit__(self, *_: object) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)

    # --- Sessions and tokens ----------------------------------------------------------------------

    def _issue(
        self, user: StandInUser, *, method: str, grant_type: str, session_id: str | None = None
    ) -> dict[str, Any]:
        """tokens/service.go IssueRefreshToken + GenerateAccessToken, and the AccessTokenResponse."""
        now = int(time.time())
        with self._lock:
            if session_id is None:
                session_id = str(uuid.uuid4())
                self._sessions[session_id] = user.id
            refresh_token = secrets.token_urlsafe(24)  # opaque to clients; GoTrue's are 12+ chars
            self._refresh[refresh_token] = _RefreshToken(session_id=session_id)
            user.last_sign_in_at = time.time()
        expires_at = now + self.access_token_ttl_s
        claims = {
            "iss": self.issuer,
            "sub": user.id,
            "aud": "authenticated",
            "exp": expires_at,
            "iat": now,
            "email": user.email,
            "phone": "",
            "app_metadata": {"provider": "email", "providers": ["email"]},
            "user_metadata": {"email": user.email, "email_verified": True, "phone_verified": False, "sub": user.id},
            "role": "authenticated",
            "aal": "aal1",
            "amr": [{"method": method, "timestamp": now}],
            "session_id": session_id,
            "is_anonymous": False,
        }
        access_token = self.sign(claims)
        self.grants.append(Grant(grant_type, user.email, access_token, refresh_token))
        return {
            "access_token": access_token,
            "token_type": "bearer",
            "expires_in": self.access_token_ttl_s,
            "expires_at": expires_at,
            "refresh_token": refresh_token,
            "user": self._user_json(user),
        }

    def _user_json(self, user: StandInUser) -> dict[str, Any]:
        """models/user.go as JSON: what GET /user and every token response carry."""
        confirmed = _iso(user.created_at) if user.confirmed else None
        identity = {
            "identity_id": str(uuid.uuid5(uuid.NAMESPACE_URL, user.id)),
            "id": user.id,
            "user_id": user.id,
            "identity_data": {
                "email": user.email,
                "email_verified": user.confirmed,
                "phone_verified": False,
                "sub": user.id,
            },
            "provider": "email",
            "last_sign_in_at": _iso(user.last_sign_in_at),
            "created_at": _iso(user.created_at),
            "updated_at": _iso(user.created_at),
            "email": user.email,
        }
        return {
            "id": user.id,
            "aud": "authenticated",
            "role": "authenticated",
            "email": user.email,
            "email_confirmed_at": confirmed,
            "phone": "",
            "confirmed_at": confirmed,
            "last_sign_in_at": _iso(user.last_sign_in_at),
            "app_metadata": {"provider": "email", "providers": ["email"]},
            "user_metadata": identity["identity_data"],
            "identities": [identity],
            "created_at": _iso(user.created_at),
            "updated_at": _iso(user.last_sign_in_at or user.created_at),
            "is_anonymous": False,
        }

    def _user_by_id(self, user_id: str) -> StandInUser | None:
        return next((u for u in self.users.values() if u.id == user_id), None)

    def _bearer_user(self, request: Request) -> tuple[StandInUser, dict[str, Any]]:
        """auth.go requireAuthentication: the user and claims of the request's own access token."""
        header = request.headers.get("authorization", "")
        token = header[7:] if header.lower().startswith("bearer ") else ""
        if not token:
            raise GoTrueError(401, "no_authorization", "This endpoint requires a valid Bearer token")
        try:
            claims = jwt.decode(token, self._private_key.public_key(), algorithms=["ES256"], audience="authenticated")
        except jwt.PyJWTError as exc:
            reason = "token has invalid claims: token is expired" if isinstance(exc, jwt.ExpiredSignatureError) else exc
            raise GoTrueError(403, "bad_jwt", f"invalid JWT: unable to parse or verify signature, {reason}") from exc
        user = self._user_by_id(str(claims.get("sub")))
        if user is None:
            raise GoTrueError(403, "user_not_found", "User from sub claim in JWT does not exist")
        if claims.get("session_id") not in self._sessions:
            raise GoTrueError(403, "session_not_found", "Session from session_id claim in JWT does not exist")
        return user, claims

    # --- Routes -----------------------------------------------------------------------------------

    async def _token(self, request: Request) -> Response:
        body = await _json_body(request)
        grant_type = request.query_params.get("grant_type", "")
        if grant_type == "password":
            return JSONResponse(self._password_grant(body))
        if grant_type == "refresh_token":
            return JSONResponse(self._refresh_grant(body))
        if grant_type == "pkce":
            return JSONResponse(self._pkce_grant(body))
        raise GoTrueError(400, "invalid_credentials", "unsupported_grant_type")

    def _password_grant(self, body: dict[str, Any]) -> dict[str, Any]:
        email, password = str(body.get("email") or ""), str(body.get("password") or "")
        if not email:
            raise GoTrueError(400, "validation_failed", "missing email or phone")
        user = self.users.get(email.lower())
        # One answer for an unknown address and a wrong password, as GoTrue: no account probing.
        if user is None or user.password is None or not secrets.compare_digest(user.password, password):
            raise GoTrueError(400, "invalid_credentials", INVALID_LOGIN)
        if not user.confirmed:
            raise GoTrueError(400, "email_not_confirmed", "Email not confirmed")
        return self._issue(user, method="password", grant_type="password")

    def _refresh_grant(self, body: dict[str, Any]) -> dict[str, Any]:
        token = str(body.get("refresh_token") or "")
        if len(token) < 12:
            raise GoTrueError(400, "validation_failed", "Refresh token is not valid")
        with self._lock:
            record = self._refresh.get(token)
        if record is None or record.session_id not in self._sessions:
            raise GoTrueError(400, "refresh_token_not_found", "Invalid Refresh Token: Refresh Token Not Found")
        user = self._user_by_id(self._sessions[record.session_id])
        assert user is not None
        if record.revoked_at is not None:
            # Two tabs refreshing at once both succeed within the reuse interval (GoTrue then hands
            # back the session's current pair; this issues a new one, which serves a client
            # alike); later, a reused token means a leak, and GoTrue ends the whole session.
            if time.time() - record.revoked_at > self.refresh_reuse_interval_s:
                with self._lock:
                    self._sessions.pop(record.session_id, None)
                raise GoTrueError(400, "refresh_token_already_used", "Invalid Refresh Token: Already Used")
        response = self._issue(user, method="password", grant_type="refresh_token", session_id=record.session_id)
        with self._lock:
            record.revoked_at = record.revoked_at or time.time()
            record.child = response["refresh_token"]
        return response

    def _pkce_grant(self, body: dict[str, Any]) -> dict[str, Any]:
        code, verifier = str(body.get("auth_code") or ""), str(body.get("code_verifier") or "")
        if not code or not verifier:
            raise GoTrueError(
                400, "validation_failed", "invalid request: both auth code and code verifier should be non-empty"
            )
        with self._lock:
            flow = self._flows.get(code)
        user = self._user_by_id(flow.user_id) if flow else None
        if flow is None or user is None:
            raise GoTrueError(404, "flow_state_not_found", "invalid flow state, no valid flow state found")
        if time.time() - flow.created_at > 300:  # GOTRUE_EXTERNAL_FLOW_STATE_EXPIRY_DURATION: 5 minutes
            raise GoTrueError(422, "flow_state_expired", "invalid flow state, flow state has expired")
        expected = verifier if flow.code_challenge_method == "plain" else _b64url_sha256(verifier)
        if not secrets.compare_digest(expected, flow.code_challenge):
            raise GoTrueError(400, "bad_code_verifier", "code challenge does not match previously saved code verifier")
        with self._lock:
            del self._flows[code]
        return self._issue(user, method="otp", grant_type="pkce")

    async def _otp(self, request: Request) -> Response:
        body = await _json_body(request)
        email = str(body.get("email") or "").lower()
        if not email:
            raise GoTrueError(400, "validation_failed", "One of email or phone must be set")
        if not self.magic_link:
            raise GoTrueError(422, "email_provider_disabled", "Login with magic link is disabled")
        challenge, method = body.get("code_challenge"), body.get("code_challenge_method")
        if bool(challenge) != bool(method):
            raise GoTrueError(400, "validation_failed", "PKCE flow requires code_challenge_method and code_challenge")
        user = self.users.get(email)
        if user is None:
            if body.get("create_user") is False:
                raise GoTrueError(422, "otp_disabled", "Signups not allowed for otp")
            user = self.add_user(email, None, confirmed=False)  # a new person: the link confirms them
        last = max((m.sent_at for m in self.outbox if m.to == email), default=None)
        if last is not None and time.time() - last < self.email_interval_s:
            wait = int(last + self.email_interval_s - time.time())
            raise GoTrueError(
                429,
                "over_email_send_rate_limit",
                f"For security purposes, you can only request this after {wait} seconds.",
            )
        token = secrets.token_hex(28)
        if challenge:
            token = "pkce_" + token  # pkce.go addFlowPrefixToToken: /verify knows the flow by it
        redirect_to = self._redirect_target(request.query_params.get("redirect_to"))
        with self._lock:
            self._links[token] = _MagicLink(
                user.id, redirect_to, time.time(), str(challenge) if challenge else None, str(method or "") or None
            )
        # templatemailer.go MagicLinkMail: {API_EXTERNAL_URL}/verify?token=…&type=magiclink&redirect_to=…
        link = f"{self.issuer}/verify?" + urlencode({"token": token, "type": "magiclink", "redirect_to": redirect_to})
        self.outbox.append(Email(to=email, subject="Your Magic Link", link=link, sent_at=time.time()))
        return JSONResponse({})

    def _redirect_target(self, redirect_to: str | None) -> str:
        """utilities.GetReferrer: a redirect the project allows, else its Site URL."""
        fallback = self.site_url or self.url
        if not redirect_to:
            return fallback
        host = urlsplit(redirect_to).hostname
        if self.site_url is None:
            return redirect_to if host in ("127.0.0.1", "localhost") else fallback
        return redirect_to if redirect_to.startswith(self.site_url) else fallback

    async def _verify(self, request: Request) -> Response:
        token, kind = request.query_params.get("token", ""), request.query_params.get("type", "")
        with self._lock:
            link = self._links.pop(token, None)  # a link works once
        asked = request.query_params.get("redirect_to") or (link.redirect_to if link else None)
        redirect_to = self._redirect_target(asked)
        pkce = token.startswith("pkce_")
        user = self._user_by_id(link.user_id) if link else None
        if kind != "magiclink" or link is None or user is None or time.time() - link.sent_at > self.link_ttl_s:
            return RedirectResponse(_error_redirect(redirect_to, pkce=pkce), status_code=303)
        user.confirmed = True
        if pkce and link.code_challenge and link.code_challenge_method:
            code = str(uuid.uuid4())
            with self._lock:
                self._flows[code] = _FlowState(user.id, link.code_challenge, link.code_challenge_method, time.time())
            return RedirectResponse(_with_query(redirect_to, {"code": code}), status_code=303)
        session = self._issue(user, method="otp", grant_type="implicit")
        fragment = {
            k: str(session[k]) for k in ("access_token", "expires_at", "expires_in", "refresh_token", "token_type")
        }
        return RedirectResponse(f"{redirect_to.split('#')[0]}#{urlencode(fragment | {'type': kind})}", status_code=303)

    async def _user(self, request: Request) -> Response:
        user, _ = self._bearer_user(request)
        return JSONResponse(self._user_json(user))

    async def _logout(self, request: Request) -> Response:
        scope = request.query_params.get("scope") or "global"
        if scope not in ("global", "local", "others"):
            raise GoTrueError(400, "validation_failed", f'Unsupported logout scope "{scope}"')
        user, claims = self._bearer_user(request)
        mine = str(claims.get("session_id"))
        with self._lock:
            for session_id, owner in list(self._sessions.items()):
                if owner != user.id:
                    continue
                if scope == "global" or (scope == "local") == (session_id == mine):
                    del self._sessions[session_id]
        return Response(status_code=204)

    async def _settings(self, _: Request) -> Response:
        providers = ["anonymous_users", "apple", "azure", "bitbucket", "discord", "facebook", "snapchat", "figma"]
        providers += ["fly", "github", "gitlab", "google", "keycloak", "kakao", "linkedin", "linkedin_oidc", "notion"]
        providers += ["spotify", "slack", "slack_oidc", "workos", "twitch", "twitter", "phone", "zoom"]
        return JSONResponse(
            {
                "external": dict.fromkeys(providers, False) | {"email": True},
                "disable_signup": False,
                "mailer_autoconfirm": False,
                "phone_autoconfirm": False,
                "sms_provider": "",
                "saml_enabled": False,
                "saml_private_key_next_configured": False,
                "passkeys_enabled": False,
            }
        )

    async def _jwks(self, _: Request) -> Response:
        return JSONResponse(self.jwks, headers={"Cache-Control": "public, max-age=600"})

    async def _gotrue_error(self, request: Request, exc: Exception) -> Response:
        assert isinstance(exc, GoTrueError)
        return gotrue_error_response(request, exc)


def gotrue_error_response(request: Request, exc: GoTrueError) -> JSONResponse:
    """errors.go handleResponseErrorHTTP: the body's shape depends on the client's API version."""
    headers = {"x-sb-error-code": exc.code}
    if request.headers.get("x-supabase-api-version", "") >= API_VERSION:
        headers["X-Supabase-Api-Version"] = API_VERSION
        return JSONResponse({"code": exc.code, "message": exc.message}, exc.status, headers=headers)
    return JSONResponse({"code": exc.status, "error_code": exc.code, "msg": exc.message}, exc.status, headers=headers)


def _error_redirect(redirect_to: str, *, pkce: bool) -> str:
    """verify.go prepErrorRedirectURL: the error in the fragment (and the query, for PKCE)."""
    error = {"error": "access_denied", "error_code": "otp_expired", "error_description": LINK_INVALID}
    base = _with_query(redirect_to, error) if pkce else redirect_to.split("#")[0]
    return f"{base.split('#')[0]}#{urlencode(error | {'sb': ''})}"


def _with_query(url: str, params: dict[str, str]) -> str:
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query)) | params
    return urlunsplit((parts.scheme, parts.netloc, parts.path, urlencode(query), parts.fragment))


async def _json_body(request: Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError as exc:
        raise GoTrueError(400, "bad_json", f"Could not parse request body as JSON: {exc}") from exc
    if not isinstance(body, dict):
        raise GoTrueError(400, "bad_json", "Could not parse request body as JSON: expected an object")
    return body


class _ApiKeyGate:
    """Supabase's API gateway: every auth path but the open ones needs the project's ``apikey``."""

    def __init__(self, app: ASGIApp, *, key: str, record: Callable[[tuple[str, str]], None]) -> None:
        self.app, self.key, self.record = app, key, record

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request = Request(scope)
        self.record((request.method, request.url.path + (f"?{request.url.query}" if request.url.query else "")))
        key = request.headers.get("apikey") or request.query_params.get("apikey")
        refusal: JSONResponse | None = None
        if request.url.path not in OPEN_PATHS:
            if not key:
                refusal = JSONResponse(
                    {
                        "message": "No API key found in request",
                        "hint": "No `apikey` request header or url param was found.",
                    },
                    401,
                )
            elif not secrets.compare_digest(key, self.key):
                refusal = JSONResponse(
                    {
                        "message": "Invalid API key",
                        "hint": "Double check your Supabase `anon` or `service_role` API key.",
                    },
                    401,
                )
        respond: Callable[[Scope, Receive, Send], Awaitable[None]] = refusal or self.app
        await respond(scope, receive, send)


def app_settings_for(
    auth: SupabaseAuthStandIn, database_url: str, simulator: ProviderSimulator, **overrides: object
) -> LocalSettings:
    """The app as deployed with a Supabase project: tokens from ``auth``, no local secret, no dev tokens."""
    return make_settings(
        database_url,
        simulator,
        supabase_jwt_secret=None,
        supabase_url=auth.url,
        supabase_publishable_key=auth.publishable_key,
        chimera_dev_tokens=False,
        **overrides,
    )
