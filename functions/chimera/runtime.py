"""The long-lived parts of a process, built once from settings and reused by every request.

Every function has the core (its settings with secrets filled in, the connection pool, the token
verifier). Only the chat function builds the chat parts (SDK clients, model catalogue, health,
limits, the chat service): history and usage never import a provider SDK nor need a key.

A warm Lambda keeps its Runtime. Until its secrets are filled in, a function answers 503 with a
sentence (``NotConfigured``) and looks again every ``RETRY_S``, so filling a secret is enough.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from psycopg_pool import AsyncConnectionPool

from chimera import observability
from chimera.auth import JwksCache, TokenVerifier
from chimera.chat.background import BackgroundWrites
from chimera.chat.service import ChatService
from chimera.errors import NotConfigured
from chimera.limits.gate import ChatLimits
from chimera.providers.base import ChatProvider
from chimera.providers.budget import BudgetStore
from chimera.providers.catalogue import Catalogue, CatalogueError, catalogue_at
from chimera.providers.health import HealthStore
from chimera.providers.router import Router
from chimera.secrets import with_secrets
from chimera.settings import ChatSettings, CoreSettings
from chimera.store.memory import MemoryBudgetStore, MemoryHealthStore, MemoryRateLimiter, MemoryTokenLimiter
from chimera.store.metered_chat_store import MeteredChatStore
from chimera.store.postgres import create_pool

RETRY_S = 15.0  # how often a function that is not configured yet looks at its secrets again


def build_providers(settings: ChatSettings) -> dict[str, ChatProvider]:
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


def build_health_store(settings: ChatSettings) -> HealthStore:
    """DynamoDB shares model health across Lambda instances; one process keeps it in memory."""
    if settings.chimera_state_table:
        from chimera.store.dynamodb import DynamoHealthStore

        return DynamoHealthStore(table_name=settings.chimera_state_table)
    return MemoryHealthStore()


def build_budget_store(settings: ChatSettings) -> BudgetStore:
    """Free-tier budgets: shared by every Lambda instance in DynamoDB; one process keeps them in memory."""
    if settings.chimera_state_table:
        from chimera.store.dynamodb import DynamoBudgetStore

        return DynamoBudgetStore(table_name=settings.chimera_state_table)
    return MemoryBudgetStore()


def build_limits(settings: ChatSettings) -> ChatLimits:
    """The limits for people: in DynamoDB, shared by every instance; in memory for one process."""
    person, address, tokens = (
        settings.chat_rate_limit_per_minute,
        settings.chat_rate_limit_per_ip_per_minute,
        settings.chat_tokens_per_day,
    )
    if settings.chimera_state_table:
        from chimera.store.dynamodb import DynamoRateLimiter, DynamoTokenLimiter

        table = settings.chimera_state_table
        return ChatLimits(
            per_person=DynamoRateLimiter(table_name=table, limit=person),
            per_address=DynamoRateLimiter(table_name=table, limit=address),
            tokens=DynamoTokenLimiter(table_name=table, limit=tokens),
        )
    return ChatLimits(
        per_person=MemoryRateLimiter(limit=person),
        per_address=MemoryRateLimiter(limit=address),
        tokens=MemoryTokenLimiter(limit=tokens),
    )


def build_verifier(settings: CoreSettings) -> TokenVerifier:
    secret = settings.supabase_jwt_secret.get_secret_value() if settings.supabase_jwt_secret else None
    jwks = JwksCache(settings.jwks_url) if settings.jwks_url else None
    return TokenVerifier(hs256_secret=secret, jwks=jwks, audience=settings.jwt_audience)


def load_models(settings: ChatSettings) -> Catalogue:
    try:
        return catalogue_at(settings.chimera_models_file)
    except CatalogueError as exc:
        raise NotConfigured(str(exc)) from exc


@dataclass
class ChatParts:
    """What only the chat function builds."""

    settings: ChatSettings
    catalogue: Catalogue
    providers: dict[str, ChatProvider]
    health: HealthStore
    budgets: BudgetStore
    limits: ChatLimits
    router: Router
    background: BackgroundWrites
    service: ChatService

    @classmethod
    def start(cls, settings: ChatSettings, pool: AsyncConnectionPool) -> ChatParts:
        catalogue = load_models(settings)
        providers = build_providers(settings)
        health = build_health_store(settings)
        budgets = build_budget_store(settings)
        router = Router(providers=providers, health=health, budgets=budgets, settings=settings, catalogue=catalogue)
        background = BackgroundWrites()
        limits = build_limits(settings)
        store = MeteredChatStore(pool, tokens=limits.tokens, stale_after_s=settings.answer_stale_after_s)
        service = ChatService(store=store, router=router, settings=settings, background=background)
        return cls(
            settings=settings,
            catalogue=catalogue,
            providers=providers,
            health=health,
            budgets=budgets,
            limits=limits,
            router=router,
            background=background,
            service=service,
        )

    async def close(self) -> None:
        # Answers still being generated go on (and are flushed) while the process drains; what is
        # left after that is cancelled, so its rows read as interrupted, before anything it uses
        # (the flusher, the providers) is closed under it.
        await self.background.drain()
        await self.service.close()
        for provider in self.providers.values():
            await provider.aclose()


@dataclass
class Runtime:
    settings: CoreSettings
    pool: AsyncConnectionPool
    verifier: TokenVerifier
    chat_parts: ChatParts | None

    @property
    def chat(self) -> ChatParts:
        assert self.chat_parts is not None, "only the chat function mounts chat routes"
        return self.chat_parts

    @classmethod
    async def start(cls, settings: CoreSettings, *, with_chat: bool) -> Runtime:
        missing = settings.missing()
        if missing:
            raise NotConfigured(" ".join(missing))
        assert settings.database_url is not None  # missing() said so
        observability.configure(emit_metrics=settings.chimera_emit_metrics)
        pool = create_pool(settings.database_url.get_secret_value(), max_size=settings.database_pool_max_size)
        chat = None
        if with_chat:
            assert isinstance(settings, ChatSettings)
            chat = ChatParts.start(settings, pool)  # before the pool opens: a bad catalogue leaks nothing
        await pool.open(wait=False)  # connect in the background; the first request waits if it must
        return cls(settings=settings, pool=pool, verifier=build_verifier(settings), chat_parts=chat)

    async def close(self) -> None:
        if self.chat_parts is not None:
            await self.chat_parts.close()
        await self.pool.close()


class RuntimeHolder:
    """Builds the Runtime once, on first need, and shares it; reads the secrets then."""

    def __init__(self, settings: CoreSettings, *, with_chat: bool) -> None:
        if with_chat and not isinstance(settings, ChatSettings):
            raise TypeError("the chat routes need ChatSettings")
        self._settings = settings
        self._with_chat = with_chat
        self._resolved: CoreSettings | None = None
        self._runtime: Runtime | None = None
        self._refused: tuple[float, NotConfigured] | None = None
        self._lock = asyncio.Lock()

    @property
    def runtime(self) -> Runtime | None:
        return self._runtime

    async def settings(self) -> CoreSettings:
        """The settings with the secrets filled in. Raises ``NotConfigured`` while they cannot be read."""
        if self._resolved is None:
            async with self._lock:
                await self._attempt(self._resolve)
        assert self._resolved is not None
        return self._resolved

    async def get(self) -> Runtime:
        """The runtime, started on first need. Raises ``NotConfigured`` until it can start."""
        if self._runtime is None:
            async with self._lock:
                await self._attempt(self._start)
        assert self._runtime is not None
        return self._runtime

    async def _attempt(self, step: Callable[[], Awaitable[None]]) -> None:
        """Run ``step``; after a refusal, answer with it for RETRY_S before trying again."""
        if self._refused is not None and time.monotonic() - self._refused[0] < RETRY_S:
            raise self._refused[1]
        try:
            await step()
        except NotConfigured as exc:
            self._refused = (time.monotonic(), exc)
            raise
        self._refused = None

    async def _resolve(self) -> None:
        if self._resolved is None:
            self._resolved = await asyncio.to_thread(with_secrets, self._settings)

    async def _start(self) -> None:
        if self._runtime is None:
            if self._refused is not None:
                self._resolved = None  # a refused start may be a secret filled in since: read again
            await self._resolve()
            assert self._resolved is not None
            self._runtime = await Runtime.start(self._resolved, with_chat=self._with_chat)

    async def close(self) -> None:
        if self._runtime is not None:
            await self._runtime.close()
            self._runtime = None
