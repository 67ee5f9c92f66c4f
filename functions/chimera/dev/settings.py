"""What `chimera dev` (and the test suite's app) reads on top of the chat function's settings."""

from __future__ import annotations

from pydantic import model_validator

from chimera.dev.simulator.state import Shape
from chimera.settings import ChatSettings


class LocalSettings(ChatSettings):
    """Every route in one process, plus a local sign-in and the page. Never for production."""

    # POST /api/dev/token hands the page a token for the local person below (a UUID like a
    # Supabase `sub`, since auth.uid() casts it to one).
    chimera_dev_tokens: bool = False
    chimera_local_user_id: str = "00000000-0000-4000-8000-000000000001"
    # Where `chimera dev` keeps its embedded Postgres and local JWT secret between runs.
    chimera_data_dir: str = ".chimera"
    # Serve frontend/ from the same app. In AWS, CloudFront serves it from S3.
    chimera_serve_frontend: bool = True
    # Supabase Auth for the page (served as /config.json): with SUPABASE_URL set too, the page signs
    # in through supabase-js. The publishable key is public by design: it only identifies the app
    # and reaches what row-level security allows (supabase.com/docs/guides/api/api-keys, 2026-11).
    supabase_publishable_key: str | None = None
    # Whether the project sends magic links (Auth > Providers > Email); GoTrue does not say so in
    # GET /auth/v1/settings, so the page is told.
    supabase_magic_link: bool = True
    # How `chimera dev`'s provider simulator answers: "mixed" is sized and shaped by the prompt like a
    # real model's answer. The test suite starts its own simulator, which keeps "words".
    chimera_simulator_shape: Shape = "mixed"

    @model_validator(mode="after")
    def _local_only(self) -> LocalSettings:
        if self.chimera_stage == "prod":
            raise ValueError("`chimera dev` is for a laptop: unset CHIMERA_STAGE=prod")
        return self
