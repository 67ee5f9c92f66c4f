"""Secret settings from AWS Secrets Manager, read through Powertools parameters (cached).

Each secret is a JSON object whose keys are the environment variable names of the settings they
fill. Values never reach a log line: an unknown key is reported by name only.
"""

from __future__ import annotations

from pydantic import SecretStr

from chimera.settings import Settings

SECRET_SETTINGS = {
    "GROQ_API_KEY": "groq_api_key",
    "GOOGLE_GENERATIVE_AI_API_KEY": "google_generative_ai_api_key",
    "DATABASE_URL": "database_url",
    "SUPABASE_JWT_SECRET": "supabase_jwt_secret",
}
CACHE_S = 300


def with_secrets(settings: Settings) -> Settings:
    """``settings`` with the values of ``CHIMERA_SECRET_IDS`` filled in (blocking: call at start-up)."""
    if not settings.chimera_secret_ids:
        return settings
    from aws_lambda_powertools.utilities import parameters

    update: dict[str, object] = {"chimera_secret_ids": []}
    for secret_id in settings.chimera_secret_ids:
        values = parameters.get_secret(secret_id, transform="json", max_age=CACHE_S)
        if not isinstance(values, dict):
            raise ValueError(f"secret {secret_id} is not a JSON object")
        for key, value in values.items():
            if key not in SECRET_SETTINGS:
                raise ValueError(f"secret {secret_id} has a key Chimera does not know: {key}")
            if value:
                update[SECRET_SETTINGS[key]] = SecretStr(str(value))
    return Settings.model_validate(settings.model_dump() | update)
