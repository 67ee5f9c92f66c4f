"""The small interface every provider implements, and the errors they raise."""

from __future__ import annotations

from collections.abc import AsyncGenerator
from dataclasses import dataclass
from enum import StrEnum
from typing import Literal, Protocol

from chimera.providers.catalogue import ModelSpec

Role = Literal["user", "assistant", "system"]


@dataclass(frozen=True, slots=True)
class PromptMessage:
    role: Role
    content: str


@dataclass(frozen=True, slots=True)
class TextDelta:
    text: str


@dataclass(frozen=True, slots=True)
class Thinking:
    """The model sent reasoning, not answer text: alive, but nothing to show (or save)."""


@dataclass(frozen=True, slots=True)
class Usage:
    input_tokens: int
    output_tokens: int

    @classmethod
    def estimated(cls, prompt: list[PromptMessage], pieces: int) -> Usage:
        """What an answer cut short before its provider reported usage consumed: about four
        characters a token for the prompt, one token a streamed piece for the answer."""
        return cls(input_tokens=sum(len(m.content) for m in prompt) // 4, output_tokens=pieces)


@dataclass(frozen=True, slots=True)
class QuotaReport:
    """What a provider said about its remaining free-tier budget (``x-ratelimit-*`` headers)."""

    remaining_requests: int | None
    remaining_tokens: int | None
    requests_reset_s: float | None
    tokens_reset_s: float | None


StreamItem = TextDelta | Thinking | Usage | QuotaReport


class FailureKind(StrEnum):
    RATE_LIMITED = "rate_limited"  # 429: wait, or go elsewhere
    UNAVAILABLE = "unavailable"  # 5xx, refused or dropped connection: worth a retry
    TIMEOUT = "timeout"  # no token in time
    BAD_RESPONSE = "bad_response"  # a stream we could not parse
    REJECTED = "rejected"  # 4xx other than 429 (bad key, bad request): retrying will not help
    MODEL_GONE = "model_gone"  # the provider says this model does not exist or was retired
    TOO_LARGE = "too_large"  # this request is more than the model takes (context, or tokens a minute)


RETRYABLE = frozenset({FailureKind.UNAVAILABLE, FailureKind.TIMEOUT, FailureKind.BAD_RESPONSE})


class ProviderError(Exception):
    """A provider call failed. Carries what the router needs to decide what to do next."""

    def __init__(
        self,
        *,
        provider: str,
        kind: FailureKind,
        detail: str,
        status: int | None = None,
        retry_after_s: float | None = None,
        code: str | None = None,
        quota: QuotaReport | None = None,
    ) -> None:
        super().__init__(f"{provider}: {kind} ({status}): {detail}")
        self.provider = provider
        self.kind = kind
        self.detail = detail
        self.status = status
        self.retry_after_s = retry_after_s
        self.code = code  # the provider's own error code, e.g. "model_decommissioned"
        self.quota = quota  # the quota facts sent with the error (Groq's x-ratelimit-* on a 429)

    @property
    def request_fault(self) -> bool:
        """The request's own fault (too large, invalid): no sign of trouble at the provider, so it
        never rests a model for everybody else."""
        return self.kind == FailureKind.TOO_LARGE or (self.kind == FailureKind.REJECTED and self.status in (400, 422))


def failure_kind_for_status(status: int) -> FailureKind:
    if status == 429:
        return FailureKind.RATE_LIMITED
    if status >= 500 or status == 408:
        return FailureKind.UNAVAILABLE
    return FailureKind.REJECTED


class ChatProvider(Protocol):
    name: str

    def stream(self, *, model: ModelSpec, messages: list[PromptMessage]) -> AsyncGenerator[StreamItem]:
        """Yield text deltas as they arrive, then one ``Usage``; maybe a ``QuotaReport`` first.

        Every failure is raised as ``ProviderError``.
        """
        ...

    async def prepare(self) -> None:
        """Whatever the first call needs (an SDK import); awaited outside any first-token deadline."""
        ...

    async def list_models(self) -> set[str]:
        """The model ids this provider serves to our key (``chimera models``). Raises ``ProviderError``."""
        ...

    async def aclose(self) -> None: ...
