"""Secret settings from AWS Secrets Manager, read through Powertools parameters.

Read when a function starts (and again while it is not configured yet), never per request.

Each secret is a JSON object whose keys are the environment variable names of the settings they
fill. A function takes only the keys its own settings model has (history never holds a provider
key even if one is put in its secret). Values never reach a log line, nor do unknown keys.
"""

from __future__ import annotations

import logging

from pydantic import SecretStr

from chimera import words
from chimera.errors import NotConfigured
from chimera.settings import CoreSettings, secret_name

logger = logging.getLogger(__name__)

# Every key a Chimera secret may hold, and the setting it fills.
SECRET_SETTINGS = {
    "DATABASE_URL": "database_url",
    "SUPABASE_JWT_SECRET": "supabase_jwt_secret",
    "SUPABASE_URL": "supabase_url",
    "GROQ_API_KEY": "groq_api_key",
    "GOOGLE_GENERATIVE_AI_API_KEY": "google_generative_ai_api_key",
    "CHIMERA_ORIGIN_SECRET": "chimera_origin_secret",
}


def with_secrets[SettingsT: CoreSettings](settings: SettingsT) -> SettingsT:
    """``settings`` with the values of ``CHIMERA_SECRET_IDS`` filled in (blocking: run it in a thread).

    Raises ``NotConfigured`` with a sentence when a secret cannot be read or is not a JSON object.
    """
    if not settings.chimera_secret_ids:
        return settings
    from aws_lambda_powertools.utilities.parameters import SecretsProvider
    from aws_lambda_powertools.utilities.parameters.exceptions import TransformParameterError

    # A provider of our own, not Powertools' process-wide default: its boto3 client is made now,
    # from the environment as it is now (region, endpoint), and nothing else shares its cache.
    provider = SecretsProvider()

    fields = type(settings).model_fields
    update: dict[str, object] = {}
    for secret_id in settings.chimera_secret_ids:
        name = secret_name(secret_id)
        try:
            values = provider.get(secret_id, transform="json")
        except TransformParameterError as exc:
            raise NotConfigured(words.secret_not_an_object(name)) from exc
        except Exception as exc:  # boto3's errors: missing secret, no permission, no network
            logger.error("could not read a secret", extra={"secret": name, "error": type(exc).__name__})
            raise NotConfigured(words.secret_unreadable(name, type(exc).__name__)) from exc
        if not isinstance(values, dict):
            raise NotConfigured(words.secret_not_an_object(name))
        unknown = [key for key in values if key not in SECRET_SETTINGS]
        if unknown:  # counted, not named: a value pasted where a key belongs must not reach a log
            logger.warning("a secret has keys Chimera does not know", extra={"secret": name, "keys": len(unknown)})
        for key, value in values.items():
            field = SECRET_SETTINGS.get(key)
            if field in fields and value:
                update[field] = SecretStr(str(value)) if field != "supabase_url" else str(value)
    return type(settings).model_validate(settings.model_dump() | update)
