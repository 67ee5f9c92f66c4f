"""Per-deployment settings from CDK context (`cdk.json` or `-c key=value`); no network lookups."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from constructs import Node

ROOT = Path(__file__).resolve().parents[1]


@dataclass(frozen=True, kw_only=True)
class DeployConfig:
    stage: str
    domain_name: str | None  # e.g. chat.example.org, served with certificate_arn
    certificate_arn: str | None  # an ACM certificate in us-east-1 covering domain_name
    allowed_origins: tuple[str, ...]
    chat_reserved_concurrency: int | None
    layer_path: Path
    functions_path: Path
    frontend_path: Path

    @property
    def prefix(self) -> str:
        return f"Chimera-{self.stage}"

    @classmethod
    def from_context(cls, node: Node) -> DeployConfig:
        origins = str(node.try_get_context("allowedOrigins") or "")
        reserved = node.try_get_context("chatReservedConcurrency")
        layer = Path(str(node.try_get_context("layerPath") or ROOT / "layers" / "build"))
        if not layer.is_dir():
            raise SystemExit(f"No dependency layer at {layer}: run `make layer` first.")
        domain = str(node.try_get_context("domainName") or "") or None
        certificate = str(node.try_get_context("certificateArn") or "") or None
        if bool(domain) != bool(certificate):
            raise SystemExit("Set both domainName and certificateArn (ACM, us-east-1), or neither.")
        return cls(
            stage=str(node.try_get_context("stage") or "dev"),
            domain_name=domain,
            certificate_arn=certificate,
            allowed_origins=tuple(o.strip() for o in origins.split(",") if o.strip()),
            chat_reserved_concurrency=int(reserved) if reserved not in (None, "") else None,
            layer_path=layer,
            functions_path=ROOT / "functions",
            frontend_path=ROOT / "frontend",
        )
