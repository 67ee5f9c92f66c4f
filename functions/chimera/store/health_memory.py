"""Provider health for one process (a laptop, a test). DynamoDB shares it across Lambdas."""

from __future__ import annotations

from chimera.providers.health import ProviderHealth


class MemoryHealthStore:
    def __init__(self) -> None:
        self._state: dict[str, ProviderHealth] = {}

    async def get(self, provider: str) -> ProviderHealth:
        return self._state.get(provider) or ProviderHealth(provider=provider)

    async def put(self, health: ProviderHealth) -> None:
        self._state[health.provider] = health

    def clear(self) -> None:
        self._state.clear()
