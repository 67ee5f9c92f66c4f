"""The page's /config.json is deployed next to it, saying how people sign in (a bare stack per case)."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App, Stack, aws_apigatewayv2, aws_lambda
from aws_cdk.assertions import Template

from infra.config import DeployConfig
from infra.constructs.web import ChimeraWeb

SUPABASE = "https://project.supabase.co"
PUBLISHABLE = "sb_publishable_abc123"


def deploy_page(tmp_path: Path, *, supabase_url: str = SUPABASE, **context: str) -> tuple[Template, dict[str, Any]]:
    """ChimeraWeb in a bare stack: its template, and the config.json its deployment uploads."""
    page = tmp_path / "dist"
    page.mkdir()
    (page / "index.html").write_text("<!doctype html><title>Chimera</title>")
    (page / "favicon.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    (page / "app-ABCDEFGH.js").write_text("export {};")
    app = App(outdir=str(tmp_path / "cdk.out"), context=context)
    stack = Stack(app, "Web")
    function = aws_lambda.Function(
        stack,
        "Chat",
        runtime=aws_lambda.Runtime.PYTHON_3_13,
        handler="index.handler",
        code=aws_lambda.Code.from_inline("def handler(event, context): pass"),
    )
    config = DeployConfig(
        stage="test",
        region=None,
        domain_name=None,
        certificate_arn=None,
        allowed_origins=(),
        chat_reserved_concurrency=None,
        web_adapter_layer_arn=None,
        supabase_url=supabase_url,
        models_file=None,
        layer_path=tmp_path,
        functions_path=tmp_path,
        frontend_path=page,
    )
    ChimeraWeb(
        stack,
        "Page",
        config=config,
        chat_url=function.add_function_url(),
        http_api=aws_apigatewayv2.HttpApi(stack, "Api"),
        origin_secret_arn="arn:aws:secretsmanager:eu-west-1:123456789012:secret:chimera/test/origin-AbCdEf",
    )
    assembly = app.synth()
    configs = list(Path(assembly.directory).glob("asset.*/config.json"))
    assert len(configs) == 1, configs
    return Template.from_stack(stack), json.loads(configs[0].read_text())


def test_with_the_project_url_and_publishable_key_the_page_signs_in_with_supabase(tmp_path: Path) -> None:
    template, config = deploy_page(tmp_path, supabasePublishableKey=PUBLISHABLE)

    assert config == {
        "auth": {"provider": "supabase", "url": SUPABASE, "publishableKey": PUBLISHABLE, "magicLink": True}
    }
    # Deployed with index.html, uncached, by the deployment that invalidates the CDN; the bundles
    # (named by their content) first, cached for a year and never pruned.
    deployments = template.find_resources("Custom::CDKBucketDeployment")
    by_id = {logical_id.split("Custom")[0]: d["Properties"] for logical_id, d in deployments.items()}
    page = next(p for lid, p in by_id.items() if "DeployPage" in lid)
    bundles = next(p for lid, p in by_id.items() if "DeployBundles" in lid)
    assert page["DistributionPaths"] == ["/", "/index.html", "/favicon.svg", "/config.json"]
    assert page["SystemMetadata"] == {"cache-control": "no-cache"}
    assert len(page["SourceObjectKeys"]) == 3  # index.html, the icon and config.json
    assert bundles["SystemMetadata"] == {"cache-control": "public, max-age=31536000, immutable"}
    assert page["Prune"] is False and bundles["Prune"] is False
    assert "DistributionPaths" not in bundles


def test_magic_links_follow_the_context(tmp_path: Path) -> None:
    _, config = deploy_page(tmp_path, supabasePublishableKey=PUBLISHABLE, supabaseMagicLink="false")

    assert config["auth"]["magicLink"] is False


@pytest.mark.parametrize(("supabase_url", "key"), [("", PUBLISHABLE), (SUPABASE, "")])
def test_without_both_the_page_asks_for_a_pasted_token(tmp_path: Path, supabase_url: str, key: str) -> None:
    _, config = deploy_page(tmp_path, supabase_url=supabase_url, supabasePublishableKey=key)

    assert config == {"auth": {"provider": "token"}}


def _jwt(payload: dict[str, str]) -> str:
    part = base64.urlsafe_b64encode(json.dumps(payload).encode()).decode().rstrip("=")
    return f"eyJhbGciOiJIUzI1NiJ9.{part}.c2lnbmF0dXJl"


@pytest.mark.parametrize("key", ["sb_secret_abc123", _jwt({"role": "service_role"})])
def test_a_secret_key_is_refused_before_it_reaches_every_visitor(tmp_path: Path, key: str) -> None:
    with pytest.raises(SystemExit, match="secret key"):
        deploy_page(tmp_path, supabasePublishableKey=key)


def test_a_legacy_anon_key_is_a_publishable_key(tmp_path: Path) -> None:
    anon = _jwt({"role": "anon"})
    _, config = deploy_page(tmp_path, supabasePublishableKey=anon)

    assert config["auth"]["publishableKey"] == anon
