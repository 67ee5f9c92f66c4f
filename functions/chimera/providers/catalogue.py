"""The models a person can choose, what they are called at their provider, and what they cost.

The public choices (``ModelChoice``) are the API's contract; what each one maps to is configuration:
``catalogue.toml`` beside this module, or the file ``CHIMERA_MODELS_FILE`` names (same format).
Providers retire model ids every few months, so a deployment follows them by editing a file, not
code. The file is validated once, when a process starts: a bad catalogue is a refused start with a
sentence that names the file and the field, never a surprise mid-chat.
"""

from __future__ import annotations

import tomllib
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Literal, get_args

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

ModelChoice = Literal["auto", "groq-llama-70b", "groq-llama-8b", "gemini-flash"]
ModelKey = Literal["groq-llama-70b", "groq-llama-8b", "gemini-flash"]
ProviderName = Literal["groq", "gemini"]
MODEL_KEYS: tuple[ModelKey, ...] = get_args(ModelKey)
DEFAULT_FILE = Path(__file__).with_name("catalogue.toml")


class CatalogueError(ValueError):
    """The catalogue file cannot be used; the message says which file and what to fix."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class FreeTier(_Frozen):
    """A provider's published free-plan limits for one model (None: no published limit)."""

    rpm: int | None = Field(default=None, ge=1, description="requests per minute")
    rpd: int | None = Field(default=None, ge=1, description="requests per day")
    tpm: int | None = Field(default=None, ge=1, description="tokens per minute")
    tpd: int | None = Field(default=None, ge=1, description="tokens per day")


class ModelSpec(_Frozen):
    key: ModelKey  # the public choice, e.g. "groq-llama-70b"
    label: str = Field(min_length=1, max_length=60)
    description: str = ""
    provider: ProviderName
    provider_model: str = Field(min_length=1)  # the id the provider's API expects
    input_usd_per_mtok: Decimal = Field(ge=0)
    output_usd_per_mtok: Decimal = Field(ge=0)
    context_tokens: int = Field(ge=1)
    free_tier: FreeTier = FreeTier()
    # For models that reason before answering (Groq's gpt-oss): less effort, an earlier first token.
    reasoning_effort: Literal["low", "medium", "high"] | None = None

    @property
    def health_key(self) -> str:
        """Health is kept per provider model: a retired or resting model leaves its siblings alone."""
        return f"{self.provider}/{self.provider_model}"

    def cost_cents(self, *, input_tokens: int, output_tokens: int) -> Decimal:
        """Exact cost in US cents; kept fractional so many small turns never round to zero."""
        usd = (input_tokens * self.input_usd_per_mtok + output_tokens * self.output_usd_per_mtok) / 1_000_000
        return usd * 100


class Routing(_Frozen):
    auto_small: ModelKey
    auto_large: ModelKey
    provider_order: tuple[ProviderName, ...] = Field(min_length=1)
    fallback: dict[ProviderName, ModelKey]


class Catalogue(_Frozen):
    routing: Routing
    models: tuple[ModelSpec, ...]
    source: str = "catalogue.toml"  # where it was read from, for messages

    @model_validator(mode="after")
    def _complete(self) -> Catalogue:
        keys = [m.key for m in self.models]
        missing = sorted(set(MODEL_KEYS) - set(keys))
        if missing:
            raise ValueError(f"every public model needs an entry; missing: {', '.join(missing)}")
        if len(set(keys)) != len(keys):
            raise ValueError("a model key appears twice")
        for provider, key in self.routing.fallback.items():
            if self.spec(key).provider != provider:
                raise ValueError(f"routing.fallback.{provider} names {key}, which is not a {provider} model")
        return self

    def spec(self, key: str) -> ModelSpec:
        for model in self.models:
            if model.key == key:
                return model
        raise KeyError(key)

    def by_provider_model(self, provider: str, provider_model: str) -> ModelSpec | None:
        return next((m for m in self.models if m.provider == provider and m.provider_model == provider_model), None)


def load_catalogue(path: Path | str | None = None) -> Catalogue:
    """The catalogue in ``path`` (the shipped one when None). Raises ``CatalogueError``."""
    file = Path(path) if path else DEFAULT_FILE
    try:
        data = tomllib.loads(file.read_text(encoding="utf-8"))
    except OSError as exc:
        raise CatalogueError(f"The model catalogue {file} cannot be read: {exc.strerror}.") from exc
    except tomllib.TOMLDecodeError as exc:
        raise CatalogueError(f"The model catalogue {file} is not valid TOML: {exc}.") from exc
    try:
        return Catalogue.model_validate(data | {"source": str(file)})
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'file'}: {e['msg']}" for e in exc.errors())
        raise CatalogueError(f"The model catalogue {file} is not valid: {problems}.") from exc


@lru_cache(maxsize=4)
def catalogue_at(path: str | None) -> Catalogue:
    """``load_catalogue``, read once per process and path."""
    return load_catalogue(path)
