"""Per-deployment settings from CDK context (`cdk.json` or `-c key=value`); no network lookups."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from constructs import Node

from infra import constants

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True, kw_only=True)
class DeployConfig:
    stage: str
    region: str | None  # known at synth from context `region` or CDK_DEFAULT_REGION; else env-agnostic
    domain_name: str | None  # e.g. chat.example.org, served with certificate_arn
    certificate_arn: str | None  # an ACM certificate in us-east-1 covering domain_name
    allowed_origins: tuple[str, ...]
    chat_reserved_concurrency: int | None
    web_adapter_layer_arn: str | None  # replaces the published Web Adapter layer
    supabase_url: str  # not a secret: a plain variable on every function ("" when unset)
    models_file: Path | None  # a model catalogue of your own, shipped beside the chat function
    layer_path: Path
    functions_path: Path
    frontend_path: Path

    @property
    def prefix(self) -> str:
        return f"Chimera-{self.stage}"

    @classmethod
    def from_context(cls, node: Node) -> DeployConfig:
        def text(key: str) -> str | None:
            return str(node.try_get_context(key) or "").strip() or None

        origins = text("allowedOrigins") or ""
        reserved = text("chatReservedConcurrency")
        layer = Path(text("layerPath") or ROOT / "layers" / "build")
        if not layer.is_dir():
            raise SystemExit(f"No dependency layer at {layer}: run `make layer` first.")
        domain, certificate = text("domainName"), text("certificateArn")
        if bool(domain) != bool(certificate):
            raise SystemExit("Set both domainName and certificateArn (ACM, us-east-1), or neither.")
        region = text("region") or os.environ.get("CDK_DEFAULT_REGION") or None
        adapter = text("webAdapterLayerArn")
        check_region(region, own_adapter_layer=adapter is not None)
        models = text("modelsFile")
        return cls(
            stage=text("stage") or "dev",
            region=region,
            domain_name=domain,
            certificate_arn=certificate,
            allowed_origins=tuple(o.strip() for o in origins.split(",") if o.strip()),
            chat_reserved_concurrency=int(reserved) if reserved else None,
            web_adapter_layer_arn=adapter,
            supabase_url=text("supabaseUrl") or "",
            models_file=checked_catalogue(Path(models)) if models else None,
            layer_path=layer,
            functions_path=ROOT / "functions",
            frontend_path=ROOT / "frontend" / "dist",  # the built page: `make install` builds it
        )


def check_region(region: str | None, *, own_adapter_layer: bool) -> None:
    """Refuse, before anything is built, a region where the chat function cannot run."""
    if region is None:
        return  # env-agnostic synth: the region is chosen at deploy time
    if region in constants.NO_FUNCTION_URL_REGIONS:
        raise SystemExit(
            f"Lambda Function URLs are not offered in {region}, and the chat stream needs one: "
            "deploy to another region."
        )
    if not own_adapter_layer and region not in constants.WEB_ADAPTER_REGIONS:
        raise SystemExit(
            f"The Lambda Web Adapter layer is not published in {region}: deploy to another region, "
            "or publish the layer there yourself and pass its ARN with -c webAdapterLayerArn=…."
        )


def checked_catalogue(path: Path) -> Path:
    """A model catalogue is read at synth too: a broken one stops the deploy, not the first chat."""
    from chimera.providers.catalogue import CatalogueError, load_catalogue  # the app's own reader

    try:
        load_catalogue(path)
    except CatalogueError as exc:
        raise SystemExit(str(exc)) from exc
    return path.resolve()
