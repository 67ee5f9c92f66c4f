"""Cold start stays lean: Gemini's SDK (1.6 s to import) loads only when Gemini is first used."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]

PROBE = """
import sys
from pydantic import SecretStr
import chat  # the chat Lambda's module: builds the app
from chimera.runtime import build_providers
from chimera.settings import ChatSettings
providers = build_providers(ChatSettings(_env_file=None, groq_api_key=SecretStr("k"),
                                         google_generative_ai_api_key=SecretStr("k")))
print(sorted(providers), "google.genai" in sys.modules, "boto3" in sys.modules)
"""

# The history and usage functions never need a provider SDK: importing them loads neither.
API_PROBE = """
import sys
import history, usage  # the Lambda modules: build their apps
print("groq" in sys.modules, "google.genai" in sys.modules, "chimera.dev" in sys.modules)
"""


def test_the_chat_app_starts_without_importing_google_genai_or_boto3() -> None:
    out = subprocess.run(
        [sys.executable, "-c", PROBE], cwd=ROOT / "functions", capture_output=True, text=True, check=True
    ).stdout
    assert out.split() == ["['gemini',", "'groq']", "False", "False"]


def test_history_and_usage_import_no_provider_sdk_and_no_dev_tooling() -> None:
    out = subprocess.run(
        [sys.executable, "-c", API_PROBE], cwd=ROOT / "functions", capture_output=True, text=True, check=True
    ).stdout
    assert out.split() == ["False", "False", "False"]
