"""Every name and number the infrastructure uses, in one place."""

from __future__ import annotations

from aws_cdk import Duration, aws_lambda

SERVICE = "chimera"
# Python 3.13: the tests run on the same minor version as Lambda (these machines have 3.13, not
# 3.14). layers/build_layer.py builds the wheels for the same version (PYTHON_VERSION there).
PYTHON_RUNTIME = aws_lambda.Runtime.PYTHON_3_13
ARCHITECTURE = aws_lambda.Architecture.ARM_64  # cheaper per ms than x86, and every wheel we use ships for it

# AWS Lambda Web Adapter: a public layer that turns an HTTP server into a Lambda (and streams).
# The current release is v1.1.0 (2026-07-09, aws/aws-lambda-web-adapter#792), published as layer
# version 30 of LambdaAdapterLayerArm64 in every commercial region the project deploys to
# (aws/aws-lambda-web-adapter#871, 2026-09-18; 29 was skipped, v1.0.1 was 28, v1.0.0 was 27).
# Checked 2026-11-25. Context `webAdapterLayerArn` replaces the whole ARN.
WEB_ADAPTER_ACCOUNT = "753240598075"
WEB_ADAPTER_LAYER = "LambdaAdapterLayerArm64"
WEB_ADAPTER_VERSION = 30
WEB_ADAPTER_PORT = 8080
# Context `modelsFile` ships a model catalogue in a layer of its own, at /opt/<this>/catalogue.toml.
MODELS_LAYER_DIR = "chimera-models"
# Where the project publishes that layer with arm64 (.github/workflows/prod.json of
# awslabs/aws-lambda-web-adapter, snapshot of 2026-03-20, less me-south-1, dropped in #691).
# China regions use other accounts and the aws-cn partition: bring your own ARN there
# (webAdapterLayerArn).
WEB_ADAPTER_REGIONS = frozenset(
    {
        "af-south-1", "ap-east-1", "ap-east-2", "ap-northeast-1", "ap-northeast-2", "ap-northeast-3",
        "ap-south-1", "ap-south-2", "ap-southeast-1", "ap-southeast-2", "ap-southeast-3", "ap-southeast-4",
        "ap-southeast-5", "ap-southeast-6", "ap-southeast-7", "ca-central-1", "ca-west-1", "eu-central-1",
        "eu-central-2", "eu-north-1", "eu-south-1", "eu-south-2", "eu-west-1", "eu-west-2", "eu-west-3",
        "il-central-1", "me-central-1", "mx-central-1", "sa-east-1", "us-east-1", "us-east-2",
        "us-west-1", "us-west-2",
    }
)  # fmt: skip
# Regions without Lambda Function URLs, which the chat stream needs (Lambda Developer Guide,
# "Creating and managing Lambda function URLs", docs.aws.amazon.com/lambda/latest/dg/urls-configuration.html,
# read 2026-11).
NO_FUNCTION_URL_REGIONS = frozenset(
    {
        "ap-south-2", "ap-southeast-4", "ap-southeast-5", "ap-southeast-6", "ap-southeast-7", "ap-east-2",
        "ca-west-1", "eu-south-2", "eu-central-2", "il-central-1", "me-central-1",
    }
)  # fmt: skip

# The chat function streams a whole answer: a long answer takes ~30 s at Groq's speed, a slow
# Gemini fallback longer, plus a first-token timeout and a retry before it. 120 s covers that
# with room. 1024 MB buys the CPU for SDK chunk parsing and a faster cold start.
CHAT_TIMEOUT = Duration.seconds(120)
CHAT_MEMORY_MB = 1024
# History and usage answer in a few milliseconds against a warm pool; 10 s is for a cold one.
API_TIMEOUT = Duration.seconds(10)
API_MEMORY_MB = 512

# One table of short-lived runtime state: per-model health (`model#…`) and rate-limit windows
# (`rate#<user>#<minute>`), each item expiring through the TTL attribute.
STATE_TABLE_PARTITION_KEY = "pk"
STATE_TABLE_TTL_ATTRIBUTE = "expires_at"

# Secrets Manager secrets: JSON objects whose keys are the functions' environment variable names.
APP_SECRET_KEYS = ("DATABASE_URL", "SUPABASE_JWT_SECRET", "SUPABASE_URL")
PROVIDER_SECRET_KEYS = ("GROQ_API_KEY", "GOOGLE_GENERATIVE_AI_API_KEY")
ORIGIN_SECRET_KEY = "CHIMERA_ORIGIN_SECRET"
ORIGIN_SECRET_LENGTH = 64  # letters and digits only: it travels as an HTTP header value
# CloudFront adds this header (the origin secret's value) to every request it sends to the API
# origins; the functions refuse requests without it, so the public URLs serve nothing to strangers.
ORIGIN_HEADER = "x-chimera-origin"
# CloudFront's viewer-request function on the chat behaviours writes the viewer's address here,
# replacing any value a client sent; the chat function counts the per-network limit on it
# (chimera.api.routes_chat.VIEWER_IP_HEADER, trusted only behind the origin guard).
VIEWER_IP_HEADER = "x-chimera-viewer-ip"

# Variables every function declares empty, so `sam local --env-vars` can set them (SAM overrides
# only variables that the template declares). The app treats an empty variable as unset; in AWS
# the secrets fill them. SUPABASE_URL carries context `supabaseUrl` when it is set.
SAM_OVERRIDABLE = ("DATABASE_URL", "SUPABASE_JWT_SECRET", "SUPABASE_URL")

# Stable logical ids of the functions: the identifiers `sam local invoke` takes. SAM reads a CDK
# construct id only from a path of at most three parts (Stack/Id/Resource, aws-sam-cli PR #7931,
# 2025-03); ours are Stack/Api/<Name>/Resource, so SAM falls back to the logical id.
FUNCTION_LOGICAL_IDS = {"Chat": "ChatFunction", "History": "HistoryFunction", "Usage": "UsageFunction"}

# Routes of the HTTP API, each to the function that owns it.
HISTORY_ROUTES = ("/api/conversations", "/api/conversations/{id}")
USAGE_ROUTES = ("/api/usage",)
# CloudFront sends these to the chat Function URL; every other /api/* goes to the HTTP API.
CHAT_PATHS = ("/api/chat", "/api/chat/*", "/api/health", "/api/models")
# CORS preflight answered by the HTTP API for context allowedOrigins.
CORS_METHODS = ("GET", "POST", "PATCH", "DELETE", "OPTIONS")
CORS_HEADERS = ("authorization", "content-type")
CORS_MAX_AGE = Duration.seconds(600)

LOG_RETENTION_DAYS = 30
