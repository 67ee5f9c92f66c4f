"""Per-deployment settings from CDK context (`cdk.json` or `-c key=value`); no network lookups."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from constructs import Node

from infra import constants

ROOT = Path(__file__).resolve().parents[1]


# Lambda Managed Instances (context `chatManagedInstances=true`): one chat execution environment
# serves many streams at once, as one uvicorn process on one vCPU (2 GiB: the smallest memory a
# vCPU takes). How many: in `make bench`'s 100-stream round one process completed 182 chats a
# second, about 4,500 SSE events, on 76% of a shared core (README, "Performance"); 64 streams of a
# model sending about 20 chunks a second are about 1,300 events a second, well within a vCPU of its
# own. Context `chatStreamsPerEnvironment` replaces it.
STREAMS_PER_ENVIRONMENT = 64
MANAGED_MEMORY_MB = 2048
MANAGED_MAX_VCPUS = {"prod": 16}  # the capacity provider's ceiling; other stages get DEFAULT_MAX_VCPUS
DEFAULT_MAX_VCPUS = 4


@dataclass(frozen=True, kw_only=True)
class ManagedInstances:
    """The chat function on Lambda Managed Instances: where its instances run (subnets with a
    route to the internet through NAT: Groq, Gemini and Supabase are outside the VPC) and how
    many streams an execution environment takes."""

    subnet_ids: tuple[str, ...]
    security_group_ids: tuple[str, ...]
    streams_per_environment: int
    max_vcpus: int

    @classmethod
    def from_context(cls, text: Callable[[str], str | None], stage: str) -> ManagedInstances | None:
        if (text("chatManagedInstances") or "false").lower() not in ("true", "1", "yes"):
            return None
        subnets, groups = _ids(text("chatSubnetIds")), _ids(text("chatSecurityGroupIds"))
        if not subnets or not groups:
            raise SystemExit(
                "chatManagedInstances needs the subnets and security groups its instances run in "
                "(no lookup at synth): -c chatSubnetIds=subnet-…,subnet-… -c chatSecurityGroupIds=sg-…"
            )
        streams = int(text("chatStreamsPerEnvironment") or STREAMS_PER_ENVIRONMENT)
        if not 1 <= streams <= 1600:  # PerExecutionEnvironmentMaxConcurrency's range
            raise SystemExit("chatStreamsPerEnvironment must be between 1 and 1600.")
        vcpus = int(text("chatMaxVcpus") or MANAGED_MAX_VCPUS.get(stage, DEFAULT_MAX_VCPUS))
        return cls(subnet_ids=subnets, security_group_ids=groups, streams_per_environment=streams, max_vcpus=vcpus)


def _ids(value: str | None) -> tuple[str, ...]:
    return tuple(v.strip() for v in (value or "").split(",") if v.strip())


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
    chat_managed_instances: ManagedInstances | None = None  # None: one stream per Lambda instance
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
        stage = text("stage") or "dev"
        managed = ManagedInstances.from_context(text, stage)
        if managed is not None and reserved:
            raise SystemExit(
                "chatReservedConcurrency is for one stream per instance; with chatManagedInstances "
                "the capacity provider's vCPUs (chatMaxVcpus) cap the chat function."
            )
        return cls(
            stage=stage,
            region=region,
            domain_name=domain,
            certificate_arn=certificate,
            allowed_origins=tuple(o.strip() for o in origins.split(",") if o.strip()),
            chat_reserved_concurrency=int(reserved) if reserved else None,
            web_adapter_layer_arn=adapter,
            supabase_url=text("supabaseUrl") or "",
            models_file=checked_catalogue(Path(models)) if models else None,
            chat_managed_instances=managed,
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
