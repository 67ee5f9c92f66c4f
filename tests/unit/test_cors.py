"""CORS answers only the configured origins (the preflight never reaches a route)."""

from __future__ import annotations

import asyncio

import httpx
from chimera.api.app import ALL_FEATURES, create_app
from chimera.settings import ChatSettings


def preflight(settings: ChatSettings, origin: str) -> httpx.Response:
    async def send() -> httpx.Response:
        transport = httpx.ASGITransport(app=create_app(settings, features=ALL_FEATURES))
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.options(
                "/api/chat",
                headers={"Origin": origin, "Access-Control-Request-Method": "POST",
                         "Access-Control-Request-Headers": "authorization,content-type"},
            )  # fmt: skip

    return asyncio.run(send())


def test_only_configured_origins_are_allowed() -> None:
    settings = ChatSettings(_env_file=None, chimera_cors_origins="https://chat.example.org, https://x.example.org")  # type: ignore[call-arg]
    assert settings.chimera_cors_origins == ["https://chat.example.org", "https://x.example.org"]

    allowed = preflight(settings, "https://chat.example.org")
    assert allowed.status_code == 200
    assert allowed.headers["access-control-allow-origin"] == "https://chat.example.org"

    refused = preflight(settings, "https://evil.example.com")
    assert "access-control-allow-origin" not in refused.headers


def test_no_origins_configured_means_no_cors_headers() -> None:
    response = preflight(ChatSettings(_env_file=None), "https://chat.example.org")  # type: ignore[call-arg]
    assert "access-control-allow-origin" not in response.headers
