"""The long-lived parts of a process, built once from settings and reused by every request.

A warm Lambda keeps its Runtime: the connection pool, the SDK clients and the health cache.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from psycopg_pool import AsyncConnectionPool

from chimera import observability
from chimera.auth import JwksCache, TokenVerifier
from chimera.chat.background import BackgroundWrites
from chimera.chat.service import ChatService
from chimera.providers.base import ChatProvider
from chimera.providers.health import HealthStore
from chimera.providers.rate_limit import RateLimiter
from chimera.providers.router import Router
from chimera.secrets import with_secrets
from chimera.settings import Settings
from chimera.store.chat_store import PostgresChatStore
from chimera.store.history_store import PostgresHistoryStore
from chimera.store.memory import MemoryHealthStore, MemoryRateLimiter
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


def build_health_store(settings: Settings) -> HealthStore:
    """DynamoDB shares provider health across Lambda instances; one process keeps it in memory."""
    if settings.chimera_health_table:
        from chimera.store.dynamodb import DynamoHealthStore

        return DynamoHealthStore(table_name=settings.chimera_health_table)
    return MemoryHealthStore()


def build_rate_limiter(settings: Settings) -> RateLimiter:
    per_minute = settings.chat_rate_limit_per_minute
    if settings.chimera_health_table:
        from chimera.store.dynamodb import DynamoRateLimiter

        return DynamoRateLimiter(table_name=settings.chimera_health_table, per_minute=per_minute)
    return MemoryRateLimiter(per_minute=per_minute)


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
    limiter: RateLimiter
    background: BackgroundWrites
    chat: ChatService
    history: PostgresHistoryStore
    usage: PostgresUsageStore
    verifier: TokenVerifier

    @classmethod
    async def start(cls, settings: Settings, *, with_providers: bool = True) -> Runtime:
        if settings.database_url is None:
            raise RuntimeError("DATABASE_URL is not set (`chimera dev` starts an embedded Postgres for you)")
        observability.configure(emit_metrics=settings.chimera_emit_metrics)
        pool = create_pool(settings.database_url.get_secret_value(), max_size=settings.database_pool_max_size)
        await pool.open(wait=False)  # connect in the background; the first request waits if it must
        providers = build_providers(settings) if with_providers else {}
        background = BackgroundWrites()
        health = build_health_store(settings)
        router = Router(providers=providers, health=health, settings=settings)
        chat = ChatService(store=PostgresChatStore(pool), router=router, settings=settings, background=background)
        return cls(
            settings=settings,
            pool=pool,
            providers=providers,
            health=health,
            limiter=build_rate_limiter(settings),
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


class RuntimeHolder:
    """Builds the Runtime once, on first need, and shares it; reads secrets from the store then."""

    def __init__(self, settings: Settings, *, with_providers: bool) -> None:
        self._settings = settings
        self._with_providers = with_providers
        self._runtime: Runtime | None = None
        self._lock = asyncio.Lock()

    @property
    def runtime(self) -> Runtime | None:
        return self._runtime

    async def get(self) -> Runtime:
        if self._runtime is None:
            async with self._lock:
                if self._runtime is None:
                    settings = await asyncio.to_thread(with_secrets, self._settings)
                    self._runtime = await Runtime.start(settings, with_providers=self._with_providers)
        return self._runtime

    async def close(self) -> None:
        if self._runtime is not None:
            await self._runtime.close()
            self._runtime = None
