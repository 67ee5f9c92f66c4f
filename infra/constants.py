"""Every name and number the infrastructure uses, in one place."""

from __future__ import annotations

from aws_cdk import Duration, aws_lambda

SERVICE = "chimera"
PYTHON_RUNTIME = aws_lambda.Runtime.PYTHON_3_14  # layers/build_layer.py builds wheels for the same
ARCHITECTURE = aws_lambda.Architecture.ARM_64  # cheaper per ms than x86, and every wheel we use ships for it

# AWS Lambda Web Adapter: a public layer that turns an HTTP server into a Lambda (and streams).
WEB_ADAPTER_ACCOUNT = "753240598075"
WEB_ADAPTER_LAYER = "LambdaAdapterLayerArm64"
WEB_ADAPTER_VERSION = 25
WEB_ADAPTER_PORT = 8080

# The chat function streams a whole answer: a long Llama 70B answer takes ~30 s at Groq's speed,
# a slow Gemini fallback longer, plus a first-token timeout and a retry before it. 120 s covers
# that with room. 1024 MB buys the CPU for SDK chunk parsing and a faster cold start.
CHAT_TIMEOUT = Duration.seconds(120)
CHAT_MEMORY_MB = 1024
# History and usage answer in a few milliseconds against a warm pool; 10 s is for a cold one.
API_TIMEOUT = Duration.seconds(10)
API_MEMORY_MB = 512

# One table of short-lived runtime state: `provider#<name>` health and `rate#<user>#<minute>` windows.
HEALTH_TABLE_PARTITION_KEY = "pk"
HEALTH_TABLE_TTL_ATTRIBUTE = "expires_at"

# Secrets Manager secrets, filled after the first deploy (README: Deploy).
APP_SECRET_DESCRIPTION = 'Chimera: {"DATABASE_URL": "...", "SUPABASE_JWT_SECRET": "..."}'
PROVIDER_SECRET_DESCRIPTION = 'Chimera: {"GROQ_API_KEY": "...", "GOOGLE_GENERATIVE_AI_API_KEY": "..."}'

# Routes of the HTTP API, each to the function that owns it.
HISTORY_ROUTES = ("/api/conversations", "/api/conversations/{id}")
USAGE_ROUTES = ("/api/usage",)
CHAT_PATHS = ("/api/chat", "/api/health")  # CloudFront sends these to the chat Function URL

LOG_RETENTION_DAYS = 30
