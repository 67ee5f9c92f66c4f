"""A loopback JWKS endpoint like Supabase's, with an EC key the tests sign with."""

from __future__ import annotations

import json
import threading
import time
from typing import Any

import jwt
import uvicorn
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from tests.support.servers import free_port

KID = "test-key-1"


class JwksServer:
    def __init__(self) -> None:
        self.private_key = ec.generate_private_key(ec.SECP256R1())
        public = json.loads(ECAlgorithm.to_jwk(self.private_key.public_key()))
        self.jwks = {"keys": [public | {"kid": KID, "alg": "ES256", "use": "sig"}]}
        self.fetches = 0
        self.port = free_port()
        app = Starlette(routes=[Route("/auth/v1/.well-known/jwks.json", self._keys)])
        self._server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=self.port, log_level="warning"))
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    @property
    def supabase_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def _keys(self, _: Request) -> JSONResponse:
        self.fetches += 1
        return JSONResponse(self.jwks)

    def sign(self, claims: dict[str, Any], *, kid: str = KID) -> str:
        return jwt.encode(claims, self.private_key, algorithm="ES256", headers={"kid": kid})

    def __enter__(self) -> JwksServer:
        self._thread.start()
        while not self._server.started:
            time.sleep(0.01)
        return self

    def __exit__(self, *_: object) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
