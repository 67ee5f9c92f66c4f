"""Every setting Chimera reads, in one validated model.

Nothing else in the package reads ``os.environ``: code asks ``get_settings()``, tests build a
``Settings`` themselves and hand it to the app factory.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

Stage = Literal["local", "test", "prod"]


class Settings(BaseSettings):
    # hide_input_in_errors: a refused setting must not print the other settings (keys) with it.
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", hide_input_in_errors=True
    )

    # Where we run. Only "local" and "test" accept a missing database or simulated providers.
    chimera_stage: Stage = "local"

    # Providers. Names match the specification and the SDKs' own variables.
    groq_api_key: SecretStr | None = None
    google_generative_ai_api_key: SecretStr | None = None
    # Left unset, each SDK uses its public endpoint. Set, they point the real SDK somewhere else
    # (the provider simulator on loopback in tests and in `chimera dev`).
    groq_base_url: str | None = None
    google_gemini_base_url: str | None = None
    # True when the base URLs point at the provider simulator; shown in every answer's metadata.
    chimera_simulated_providers: bool = False

    # Postgres (Supabase in production). Unset locally: `chimera dev` starts an embedded one.
    database_url: SecretStr | None = None
    database_pool_max_size: int = Field(default=10, ge=1, le=200)

    # AWS. Provider health shared across Lambda instances lives in this DynamoDB table when set.
    chimera_health_table: str | None = None
    # Secrets Manager secrets (names or ARNs, comma-separated) whose JSON keys fill the secret
    # settings above, e.g. {"DATABASE_URL": "...", "GROQ_API_KEY": "..."}. Read once per instance.
    chimera_secret_ids: Annotated[list[str], NoDecode] = []
    # Emit CloudWatch metrics (EMF on stdout): time to first token, tokens, fallbacks, errors.
    chimera_emit_metrics: bool = False

    # Request limits. Chats a person may start per minute (keeps one person from spending the
    # free-tier quota everybody shares).
    chat_rate_limit_per_minute: int = Field(default=20, ge=1)
    history_turns: int = Field(default=20, ge=0, description="earlier messages sent as context")

    # Provider behaviour owned by the router (the SDKs' own retries are off).
    provider_attempts: int = Field(default=2, ge=1, le=5, description="tries per model")
    retry_base_delay_s: float = Field(default=0.25, ge=0)
    max_retry_after_wait_s: float = Field(default=2.0, ge=0, description="wait for retry-after up to this")
    first_token_timeout_s: float = Field(default=15.0, gt=0)
    stream_idle_timeout_s: float = Field(default=30.0, gt=0)
    provider_max_connections: int = Field(default=1000, ge=1)
    sse_heartbeat_s: float = Field(default=15.0, gt=0, description="keep-alive comment while no text flows")

    # Authentication: Supabase access tokens. HS256 with the project's JWT secret, and/or the
    # asymmetric keys published at SUPABASE_URL/auth/v1/.well-known/jwks.json.
    supabase_jwt_secret: SecretStr | None = None
    supabase_url: str | None = None
    jwt_audience: str = "authenticated"
    # `chimera dev` only: POST /api/dev/token hands the page a token for the local person below
    # (a UUID like a Supabase `sub`, since auth.uid() casts it to one).
    chimera_dev_tokens: bool = False
    chimera_local_user_id: str = "00000000-0000-4000-8000-000000000001"

    # Browser origins allowed to call the API from another origin (comma-separated). Empty: none.
    chimera_cors_origins: Annotated[list[str], NoDecode] = []

    # Where `chimera dev` keeps its embedded Postgres between runs.
    chimera_data_dir: str = ".chimera"

    # Serve frontend/ from the same app (laptop). In AWS, CloudFront serves it from S3.
    chimera_serve_frontend: bool = True

    @field_validator("chimera_cors_origins", "chimera_secret_ids", mode="before")
    @classmethod
    def _split_commas(cls, value: object) -> object:
        if isinstance(value, str):
            return [origin.strip() for origin in value.split(",") if origin.strip()]
        return value

    @property
    def jwks_url(self) -> str | None:
        return f"{self.supabase_url.rstrip('/')}/auth/v1/.well-known/jwks.json" if self.supabase_url else None

    @model_validator(mode="after")
    def _refuse_unsafe_production(self) -> Settings:
        if self.chimera_stage == "prod" and not self.chimera_secret_ids:  # checked again once secrets are read
            if self.database_url is None:
                raise ValueError("DATABASE_URL is required when CHIMERA_STAGE=prod")
            if self.chimera_simulated_providers:
                raise ValueError("the provider simulator cannot be used when CHIMERA_STAGE=prod")
            if self.chimera_dev_tokens:
                raise ValueError("CHIMERA_DEV_TOKENS cannot be enabled when CHIMERA_STAGE=prod")
            if self.supabase_jwt_secret is None and self.supabase_url is None:
                raise ValueError("set SUPABASE_JWT_SECRET or SUPABASE_URL when CHIMERA_STAGE=prod")
            if self.groq_api_key is None and self.google_generative_ai_api_key is None:
                raise ValueError("set GROQ_API_KEY or GOOGLE_GENERATIVE_AI_API_KEY when CHIMERA_STAGE=prod")
        return self


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
