"""The long-lived parts of a process, built once from settings and reused by every request.

A warm Lambda keeps its Runtime: the connection pool, the SDK clients and the health cache.
"""

from __future__ import annotations

from dataclasses import dataclass

from psycopg_pool import AsyncConnectionPool

from chimera.auth import JwksCache, TokenVerifier
from chimera.chat.background import BackgroundWrites
from chimera.chat.service import ChatService
from chimera.providers.base import ChatProvider
from chimera.providers.health import HealthStore
from chimera.providers.router import Router
from chimera.settings import Settings
from chimera.store.chat_store import PostgresChatStore
from chimera.store.health_memory import MemoryHealthStore
from chimera.store.history_store import PostgresHistoryStore
from chimera.store.postgres import create_pool
from chimera.store.usage_store import PostgresUsageStore


def build_providers(settings: Settings) -> dict[str, ChatProvider]:
    """One provider per configured key; the Gemini SDK itself is imported on first use."""
    providers: dict[str, ChatProvider] = {}
    timeout = max(settings.first_token_timeout_s, settings.stream_idle_timeout_s) + 5
    if settings.groq_api_key is not None:
        from chimera.providers.groq_provider import GroqProvider

        providers["groq"] = GroqProvider(
            api_key=settings.groq_api_key.get_secret_value(),
            base_url=settings.groq_base_url,
            max_connections=settings.provider_max_connections,
            timeout_s=timeout,
        )
    if settings.google_generative_ai_api_key is not None:
        from chimera.providers.gemini_provider import GeminiProvider

        providers["gemini"] = GeminiProvider(
            api_key=settings.google_generative_ai_api_key.get_secret_value(),
            base_url=settings.google_gemini_base_url,
            timeout_s=timeout,
        )
    return providers


def build_verifier(settings: Settings) -> TokenVerifier:
    secret = settings.supabase_jwt_secret.get_secret_value() if settings.supabase_jwt_secret else None
    jwks = JwksCache(settings.jwks_url) if settings.jwks_url else None
    return TokenVerifier(hs256_secret=secret, jwks=jwks, audience=settings.jwt_audience)


@dataclass
class Runtime:
    settings: Settings
    pool: AsyncConnectionPool
    providers: dict[str, ChatProvider]
    health: HealthStore
    background: BackgroundWrites
    chat: ChatService
    history: PostgresHistoryStore
    usage: PostgresUsageStore
    verifier: TokenVerifier

    @classmethod
    async def start(cls, settings: Settings, *, health: HealthStore | None = None) -> Runtime:
        if settings.database_url is None:
            raise RuntimeError("DATABASE_URL is not set (`chimera dev` starts an embedded Postgres for you)")
        pool = create_pool(settings.database_url.get_secret_value(), max_size=settings.database_pool_max_size)
        await pool.open(wait=False)  # connect in the background; the first request waits if it must
        providers = build_providers(settings)
        background = BackgroundWrites()
        health = health or MemoryHealthStore()
        router = Router(providers=providers, health=health, settings=settings)
        chat = ChatService(store=PostgresChatStore(pool), router=router, settings=settings, background=background)
        return cls(
            settings=settings,
            pool=pool,
            providers=providers,
            health=health,
            background=background,
            chat=chat,
            history=PostgresHistoryStore(pool),
            usage=PostgresUsageStore(pool),
            verifier=build_verifier(settings),
        )

    async def close(self) -> None:
        await self.background.drain()
        for provider in self.providers.values():
            await provider.aclose()
        await self.pool.close()
