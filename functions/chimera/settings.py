"""The settings each deployed function reads, one validated model per function.

Nothing else in the package reads ``os.environ``. Each function builds only the model it needs:
the chat function ``ChatSettings`` (providers, limits, the state table), history and usage
``HistorySettings`` / ``UsageSettings`` (a database and sign-in, nothing more), so a history
function deployed with only the app secret starts. ``chimera dev`` adds its own on top
(``chimera.dev.settings.LocalSettings``).

Settings refuse what is unsafe (the simulator in production). What is merely missing (a secret
not filled in yet) is not a crash: ``missing()`` says it in sentences, and the function answers
503 with them until the secret is filled.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from chimera import words

Stage = Literal["local", "test", "prod"]


class CoreSettings(BaseSettings):
    """What every function reads: where it runs, the database, and how to check who is asking."""

    # hide_input_in_errors: a refused setting must not print the other settings (keys) with it.
    # env_ignore_empty: a template declares some variables empty (so SAM can override them); empty
    # means unset, and the secret store fills them in AWS.
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", hide_input_in_errors=True, env_ignore_empty=True
    )

    # Where we run. "prod" refuses the provider simulator and dev-only shortcuts.
    chimera_stage: Stage = "local"

    # Postgres (Supabase in production). Unset locally: `chimera dev` starts an embedded one.
    database_url: SecretStr | None = None
    database_pool_max_size: int = Field(default=10, ge=1, le=200)

    # Authentication: Supabase access tokens. HS256 with the project's JWT secret, and/or the
    # asymmetric keys published at SUPABASE_URL/auth/v1/.well-known/jwks.json.
    supabase_jwt_secret: SecretStr | None = None
    supabase_url: str | None = None
    jwt_audience: str = "authenticated"

    # Browser origins allowed to call the API from another origin (comma-separated). Empty: none.
    chimera_cors_origins: Annotated[list[str], NoDecode] = []
    # CloudFront adds this value as the `x-chimera-origin` header; when set, requests without it
    # (someone calling the Function URL or execute-api URL directly) are refused. Unset: no check.
    chimera_origin_secret: SecretStr | None = None

    # Secrets Manager secrets (names or ARNs, comma-separated) whose JSON keys fill the secret
    # settings, e.g. {"DATABASE_URL": "...", "SUPABASE_JWT_SECRET": "..."}. Read once per instance.
    chimera_secret_ids: Annotated[list[str], NoDecode] = []
    # Emit CloudWatch metrics (EMF on stdout).
    chimera_emit_metrics: bool = False
    # An answer being generated is written to Postgres this often; one not written for a few
    # intervals (``answer_stale_after_s``) is read as interrupted. History reads it too.
    chat_flush_interval_s: float = Field(default=1.0, gt=0, le=10)

    @property
    def answer_stale_after_s(self) -> float:
        """A streaming answer not flushed for this long is read as interrupted (its process died)."""
        return max(10.0, 5 * self.chat_flush_interval_s)

    @field_validator("chimera_cors_origins", "chimera_secret_ids", mode="before")
    @classmethod
    def _split_commas(cls, value: object) -> object:
        if isinstance(value, str):
            return [item.strip() for item in value.split(",") if item.strip()]
        return value

    @property
    def jwks_url(self) -> str | None:
        return f"{self.supabase_url.rstrip('/')}/auth/v1/.well-known/jwks.json" if self.supabase_url else None

    def missing(self) -> list[str]:
        """What this function still needs before it can serve, one sentence each (empty: ready)."""
        where = self._where("app")
        problems = []
        if self.database_url is None:
            problems.append(words.database_url_missing(where))
        if self.supabase_jwt_secret is None and self.supabase_url is None:
            problems.append(words.sign_in_missing(where))
        return problems

    def _where(self, owner: str) -> str:
        """Where to put a missing value: the secret named for ``owner`` (`chimera/<stage>/app`), if
        this function reads one, else every secret it reads, else the environment."""
        names = [secret_name(s) for s in self.chimera_secret_ids]
        owned = [name for name in names if name.rsplit("/", 1)[-1] == owner] or names
        return words.put_in(owned)


class HistorySettings(CoreSettings):
    """The history function reads only the core settings."""


class UsageSettings(CoreSettings):
    """The usage function reads only the core settings."""


class ChatSettings(CoreSettings):
    """The chat function: providers, the model catalogue, limits and the runtime-state table."""

    # Providers. Names match the specification and the SDKs' own variables.
    groq_api_key: SecretStr | None = None
    google_generative_ai_api_key: SecretStr | None = None
    # Left unset, each SDK uses its public endpoint. Set, they point the real SDK somewhere else
    # (the provider simulator on loopback in tests and in `chimera dev`).
    groq_base_url: str | None = None
    google_gemini_base_url: str | None = None
    # True when the base URLs point at the provider simulator; shown in every answer's metadata.
    chimera_simulated_providers: bool = False
    # The model catalogue (TOML, the format of chimera/providers/catalogue.toml). Unset: the shipped one.
    chimera_models_file: str | None = None

    # AWS: model health and the limits' counts shared across Lambda instances live in this
    # DynamoDB table when set; in memory otherwise.
    chimera_state_table: str | None = None

    # Request limits (chimera.limits), so no one person or network spends the free-tier quota that
    # everybody shares. Chats a person may start in any minute.
    chat_rate_limit_per_minute: int = Field(default=20, ge=1)
    # Chats one network address (an IPv6 /64) may start in any minute, whoever is signed in: higher
    # than a person's, because a household, an office or a mobile carrier's NAT puts many people
    # behind one address; low enough that one machine cannot run up accounts to multiply its share.
    chat_rate_limit_per_ip_per_minute: int = Field(default=60, ge=1)
    # Tokens (input + output) a person may use per UTC day. On Groq's free tier a large model has
    # 200,000 tokens a day for the whole deployment: one person may spend at most half of that.
    chat_tokens_per_day: int = Field(default=100_000, ge=1)
    history_turns: int = Field(default=20, ge=0, description="earlier messages sent as context")

    # Provider behaviour owned by the router (the SDKs' own retries are off).
    provider_attempts: int = Field(default=2, ge=1, le=5, description="tries per model")
    retry_base_delay_s: float = Field(default=0.25, ge=0)
    max_retry_after_wait_s: float = Field(default=2.0, ge=0, description="wait for retry-after up to this")
    first_token_timeout_s: float = Field(default=15.0, gt=0)
    stream_idle_timeout_s: float = Field(default=30.0, gt=0)
    provider_max_connections: int = Field(default=1000, ge=1)
    sse_heartbeat_s: float = Field(default=15.0, gt=0, description="keep-alive comment while no text flows")

    @model_validator(mode="after")
    def _no_simulator_in_production(self) -> ChatSettings:
        if self.chimera_stage == "prod" and self.chimera_simulated_providers:
            raise ValueError("the provider simulator cannot be used when CHIMERA_STAGE=prod")
        return self

    def missing(self) -> list[str]:
        problems = super().missing()
        if self.groq_api_key is None and self.google_generative_ai_api_key is None:
            problems.append(words.provider_keys_missing(self._where("providers")))
        return problems


def secret_name(secret_id: str) -> str:
    """A secret's name from its name or ARN (`arn:…:secret:chimera/dev/app-AbCdEf` → `chimera/dev/app`)."""
    if not secret_id.startswith("arn:"):
        return secret_id
    name = secret_id.split(":secret:", 1)[-1]
    stem, _, suffix = name.rpartition("-")
    return stem if stem and len(suffix) == 6 else name  # Secrets Manager appends "-" and 6 characters
