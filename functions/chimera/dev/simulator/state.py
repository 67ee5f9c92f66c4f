"""What the simulator serves and how it answers: scenarios, defaults, the models it knows.

A test changes this state (``simulator.state``) and the protocol modules read it on every request,
under one lock because the simulator runs in its own thread.
"""

from __future__ import annotations

import threading
from collections import deque
from dataclasses import dataclass, field, replace
from functools import cache
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field

from chimera.providers.catalogue import Catalogue, FreeTier, ModelSpec, load_catalogue

SimProvider = Literal["groq", "gemini"]
PROVIDERS: tuple[SimProvider, ...] = get_args(SimProvider)
# words: a line of plain words (tests); markdown, long: one fixed rich answer, long is 2,000+ tokens;
# mixed: what a real model would say to the prompt, from one sentence to 2,000+ tokens (`chimera dev`).
Shape = Literal["words", "markdown", "long", "mixed"]
SHAPES: tuple[Shape, ...] = get_args(Shape)
Oddity = Literal["nul", "lone_surrogate", "bom", "crlf"]
RateLimit = Literal["tpm", "rpm", "rpd", "tpd"]
ModelStatus = Literal["served", "retired", "unknown"]

# Ids the providers have shut down, checked 2026-11-25: Groq ended both Llamas on 2026-08-16
# (console.groq.com/docs/deprecations); Google retires gemini-2.5-flash on 2026-12-01 and 2.0 before
# it (ai.google.dev/gemini-api/docs/deprecations).
RETIRED_BY_DEFAULT: dict[SimProvider, frozenset[str]] = {
    "groq": frozenset({"llama-3.3-70b-versatile", "llama-3.1-8b-instant"}),
    "gemini": frozenset({"gemini-2.5-flash", "gemini-2.0-flash"}),
}
# Other current Groq chat ids, so the model list is not just ours (console.groq.com/docs/models).
EXTRA_GROQ_MODELS = frozenset({"groq/compound", "groq/compound-mini", "openai/gpt-oss-safeguard-20b"})


class Scenario(BaseModel):
    """How the simulator answers one request. Unset fields take the simulator's defaults."""

    model_config = ConfigDict(extra="forbid")

    # Faults
    status: int | None = Field(default=None, description="answer with this HTTP error instead")
    retry_after_s: float | None = Field(default=None, ge=0, description="a 429's wait; None: a typical one")
    rate_limit: RateLimit = Field(default="tpm", description="which limit a 429 says was hit")
    retry_info: bool = Field(default=True, description="Gemini 429: include google.rpc.RetryInfo")
    drop_after: int | None = Field(default=None, ge=0, description="cut the connection after N tokens")
    malformed_after: int | None = Field(default=None, ge=0, description="send a broken chunk after N tokens")
    stall_after: int | None = Field(default=None, ge=0, description="go silent after N tokens")
    remaining_requests: int | None = Field(default=None, ge=0, description="x-ratelimit-remaining-requests")
    # Pace
    first_token_delay_s: float | None = Field(default=None, ge=0)
    token_delay_s: float | None = Field(default=None, ge=0)
    # The answer
    tokens: int | None = Field(default=None, ge=0, description="length of a 'words' answer")
    shape: Shape | None = Field(default=None, description="words | markdown | long | mixed")
    answer: str | None = Field(default=None, description="stream exactly this text, in token-sized pieces")
    oddities: list[Oddity] = Field(default_factory=list, description="awkward characters to put in the answer")
    reasoning_tokens: int | None = Field(default=None, ge=0, description="reasoning pieces before the answer")


@dataclass
class SimulatorDefaults:
    tokens: int = 24
    first_token_delay_s: float = 0.02
    token_delay_s: float = 0.015
    shape: Shape = "words"  # short plain words keep most tests' expectations one line long
    reasoning_tokens: int = 6  # like gpt-oss on Groq (and Gemini 3 thinking): reasoning comes first
    # Gemini's ListModels page size when the caller gives none. Google's is 50 with ~50 models, so
    # real clients page; ours is tiny so that code which reads only the first page fails in tests.
    models_page_size: int = 1


@dataclass(frozen=True)
class SeenRequest:
    provider: SimProvider
    model: str
    prompt: str


@dataclass(frozen=True)
class SeenListing:
    provider: SimProvider
    path: str  # with the query string, e.g. "/v1/models?pageSize=1"


@cache
def shipped_catalogue() -> Catalogue:
    return load_catalogue()


def catalogue_spec(provider: str, provider_model: str) -> ModelSpec | None:
    return next(
        (m for m in shipped_catalogue().models if m.provider == provider and m.provider_model == provider_model),
        None,
    )


def free_tier(provider: str, provider_model: str) -> FreeTier:
    spec = catalogue_spec(provider, provider_model)
    return spec.free_tier if spec else FreeTier()


def default_served() -> dict[str, set[str]]:
    served: dict[str, set[str]] = {p: set() for p in PROVIDERS}
    for spec in shipped_catalogue().models:
        served[spec.provider].add(spec.provider_model)
    served["groq"] |= EXTRA_GROQ_MODELS
    return served


def default_retired() -> dict[str, set[str]]:
    return {p: set(ids) for p, ids in RETIRED_BY_DEFAULT.items()}


def _empty_queues() -> dict[str, deque[Scenario]]:
    return {p: deque() for p in PROVIDERS}


@dataclass
class SimulatorState:
    defaults: SimulatorDefaults = field(default_factory=SimulatorDefaults)
    queues: dict[str, deque[Scenario]] = field(default_factory=_empty_queues)
    served: dict[str, set[str]] = field(default_factory=default_served)
    retired: dict[str, set[str]] = field(default_factory=default_retired)
    seen: list[SeenRequest] = field(default_factory=list)
    listings: list[SeenListing] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def __post_init__(self) -> None:
        # What reset() returns to: the defaults this simulator was started with (`chimera
        # simulator --reasoning-tokens 0` stays without reasoning after a reset).
        self._started_with = replace(self.defaults)

    def script(self, provider: SimProvider, *scenarios: Scenario) -> None:
        with self.lock:
            self.queues[provider].extend(scenarios)

    def retire(self, provider: SimProvider, model: str) -> None:
        """From now on ``model`` is refused as the provider refuses a shut-down model."""
        with self.lock:
            self.served[provider].discard(model)
            self.retired[provider].add(model)

    def serve(self, provider: SimProvider, model: str) -> None:
        with self.lock:
            self.retired[provider].discard(model)
            self.served[provider].add(model)

    def reset(self) -> None:
        with self.lock:
            for queue in self.queues.values():
                queue.clear()
            self.seen.clear()
            self.listings.clear()
            self.defaults = replace(self._started_with)
            self.served = default_served()
            self.retired = default_retired()

    def model_status(self, provider: SimProvider, model: str) -> ModelStatus:
        with self.lock:
            # Retired wins: a catalogue that still names a shut-down id meets the provider's refusal.
            if model in self.retired[provider]:
                return "retired"
            return "served" if model in self.served[provider] else "unknown"

    def served_models(self, provider: SimProvider) -> list[str]:
        with self.lock:
            return sorted(self.served[provider])

    def record(self, provider: SimProvider, model: str, prompt: str) -> None:
        with self.lock:
            self.seen.append(SeenRequest(provider=provider, model=model, prompt=prompt))

    def record_listing(self, provider: SimProvider, path: str) -> None:
        with self.lock:
            self.listings.append(SeenListing(provider=provider, path=path))

    def take_scenario(self, provider: SimProvider) -> Scenario:
        with self.lock:
            queue = self.queues[provider]
            return queue.popleft() if queue else Scenario()

    def next_scenario(self, provider: SimProvider, model: str, prompt: str) -> Scenario:
        self.record(provider, model, prompt)
        return self.take_scenario(provider)

    def requests_to(self, provider: SimProvider) -> list[SeenRequest]:
        with self.lock:
            return [r for r in self.seen if r.provider == provider]
