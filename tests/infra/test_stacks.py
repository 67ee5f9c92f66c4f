"""The CDK app, synthesized once (with cdk-nag's AWS Solutions checks), checked resource by resource."""

from __future__ import annotations

import ast
import json
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App
from aws_cdk.assertions import Match, Template
from chimera.api.routes_chat import VIEWER_IP_HEADER
from chimera.providers.catalogue import DEFAULT_FILE

from infra import constants
from infra.app import build
from infra.config import check_region
from tests.support.templates import (
    Synth,
    data_exports,
    function_environment,
    function_named,
    resolve_environment,
    resources,
    secret_arn_refs,
    synth_app,
)

SECRET_LOOKALIKES = ("postgresql://", "gsk_", "AIza", "sk-", "SUPABASE_JWT_SECRET=", "test-secret")
FUNCTIONS = ("Chimera chat", "Chimera history", "Chimera usage")
FUNCTIONS_DIR = Path(__file__).resolve().parents[2] / "functions"


@pytest.fixture(scope="module")
def templates(synthesized: Synth) -> dict[str, Template]:
    return {name: Template.from_json(template) for name, template in synthesized.templates.items()}


def policy_of(template: dict[str, Any], function: dict[str, Any]) -> str:
    role = function["Properties"]["Role"]["Fn::GetAtt"][0]
    policies = [
        p["Properties"]["PolicyDocument"]
        for p in resources(template, "AWS::IAM::Policy").values()
        if {"Ref": role} in p["Properties"]["Roles"]
    ]
    return json.dumps(policies)


def test_the_chat_function_streams_through_the_web_adapter(templates: dict[str, Template], synthesized: Synth) -> None:
    api = templates["api"]
    api.has_resource_properties(
        "AWS::Lambda::Url",
        {"InvokeMode": "RESPONSE_STREAM", "AuthType": "NONE", "TargetFunctionArn": Match.any_value()},
    )
    api.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Handler": "run.sh",
            "Runtime": "python3.13",
            "Architectures": ["arm64"],
            "Timeout": 120,
            "MemorySize": 1024,
            "ReservedConcurrentExecutions": 7,
            "TracingConfig": {"Mode": "Active"},
            "Environment": {
                "Variables": Match.object_like(
                    {
                        "AWS_LAMBDA_EXEC_WRAPPER": "/opt/bootstrap",
                        "AWS_LWA_INVOKE_MODE": "response_stream",
                        "AWS_LWA_READINESS_CHECK_PROTOCOL": "tcp",
                        "PORT": "8080",
                        "CHIMERA_STAGE": "prod",
                    }
                )
            },
        },
    )
    _, chat = function_named(synthesized.templates["api"], "Chimera chat")
    layers = json.dumps(chat["Properties"]["Layers"])
    assert ":753240598075:layer:LambdaAdapterLayerArm64:30" in layers
    assert len(chat["Properties"]["Layers"]) == 2  # the adapter and our dependencies


def test_the_functions_have_the_logical_ids_sam_is_given(synthesized: Synth) -> None:
    ids = {function_named(synthesized.templates["api"], name)[0] for name in FUNCTIONS}
    assert ids == {"ChatFunction", "HistoryFunction", "UsageFunction"}


def test_history_and_usage_are_routes_of_the_http_api(templates: dict[str, Template], synthesized: Synth) -> None:
    api = templates["api"]
    for route in (
        "GET /api/conversations",
        "GET /api/conversations/{id}",
        "PATCH /api/conversations/{id}",
        "DELETE /api/conversations/{id}",
        "GET /api/usage",
    ):
        api.has_resource_properties("AWS::ApiGatewayV2::Route", {"RouteKey": route})
    api.resource_count_is("AWS::ApiGatewayV2::Route", 5)
    api.has_resource_properties(
        "AWS::ApiGatewayV2::Stage",
        {"AccessLogSettings": {"DestinationArn": Match.any_value(), "Format": Match.any_value()}},
    )
    for name in ("Chimera history", "Chimera usage"):
        _, function = function_named(synthesized.templates["api"], name)
        props = function["Properties"]
        assert props["Handler"] in {"history.handler", "usage.handler"}
        assert props["Runtime"] == "python3.13"
        assert props["Timeout"] == 10 and "AWS_LAMBDA_EXEC_WRAPPER" not in props["Environment"]["Variables"]


def test_the_http_api_answers_cors_preflight_for_the_allowed_origins(templates: dict[str, Template]) -> None:
    templates["api"].has_resource_properties(
        "AWS::ApiGatewayV2::Api",
        {
            "CorsConfiguration": {
                "AllowOrigins": ["https://chat.example.org"],
                "AllowMethods": ["GET", "POST", "PATCH", "DELETE", "OPTIONS"],
                "AllowHeaders": ["authorization", "content-type"],
                "MaxAge": 600,
            }
        },
    )
    # The chat Function URL has no CORS of its own: the app's CORSMiddleware is its one owner.
    for url in resources(templates["api"].to_json(), "AWS::Lambda::Url").values():
        assert "Cors" not in url["Properties"]


def test_the_runtime_state_table_has_its_key_ttl_and_recovery(templates: dict[str, Template]) -> None:
    templates["data"].has_resource_properties(
        "AWS::DynamoDB::GlobalTable",
        {
            "KeySchema": [{"AttributeName": "pk", "KeyType": "HASH"}],
            "AttributeDefinitions": [{"AttributeName": "pk", "AttributeType": "S"}],
            "BillingMode": "PAY_PER_REQUEST",
            "TimeToLiveSpecification": {"AttributeName": "expires_at", "Enabled": True},
            "Replicas": [Match.object_like({"PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True}})],
        },
    )


def test_the_secrets_are_created_empty_or_generated(synthesized: Synth) -> None:
    secrets = {
        r["Properties"]["Name"]: r["Properties"]
        for r in resources(synthesized.templates["data"], "AWS::SecretsManager::Secret").values()
    }
    assert set(secrets) == {"chimera/test/app", "chimera/test/providers", "chimera/test/origin"}
    assert secrets["chimera/test/app"]["SecretString"] == "{}"
    assert secrets["chimera/test/providers"]["SecretString"] == "{}"
    origin = secrets["chimera/test/origin"]
    assert "SecretString" not in origin
    assert origin["GenerateSecretString"] == {
        "SecretStringTemplate": "{}",
        "GenerateStringKey": "CHIMERA_ORIGIN_SECRET",
        "ExcludePunctuation": True,
        "PasswordLength": 64,
    }


def test_each_function_is_told_its_secrets_table_and_settings(synthesized: Synth) -> None:
    assert secret_arn_refs(synthesized.templates, "Chimera chat") == ["app", "providers", "origin"]
    assert secret_arn_refs(synthesized.templates, "Chimera history") == ["app", "origin"]
    assert secret_arn_refs(synthesized.templates, "Chimera usage") == ["app", "origin"]
    exports = data_exports(synthesized.templates)
    for name in FUNCTIONS:
        env = function_environment(synthesized.templates["api"], name)
        # Declared (empty) so `sam local --env-vars` can set them; the secrets fill them in AWS.
        assert env["DATABASE_URL"] == "" and env["SUPABASE_JWT_SECRET"] == ""
        assert env["SUPABASE_URL"] == "https://project.supabase.co"  # context supabaseUrl: not a secret
        assert env["CHIMERA_STAGE"] == "prod"
        if name == "Chimera chat":
            assert exports[env["CHIMERA_STATE_TABLE"]["Fn::ImportValue"]] == "state_table"
            assert env["CHIMERA_CORS_ORIGINS"] == "https://chat.example.org"
        else:
            assert "CHIMERA_STATE_TABLE" not in env and "CHIMERA_CORS_ORIGINS" not in env
        assert "CHIMERA_HEALTH_TABLE" not in env


def test_a_function_environment_resolves_to_plain_settings(synthesized: Synth) -> None:
    values = {"app": "arn:app", "providers": "arn:providers", "origin": "arn:origin", "state_table": "state"}
    exports = data_exports(synthesized.templates)
    chat = resolve_environment(function_environment(synthesized.templates["api"], "Chimera chat"), exports, values)
    assert chat["CHIMERA_SECRET_IDS"] == "arn:app,arn:providers,arn:origin"
    assert chat["CHIMERA_STATE_TABLE"] == "state"
    usage = resolve_environment(function_environment(synthesized.templates["api"], "Chimera usage"), exports, values)
    assert usage["CHIMERA_SECRET_IDS"] == "arn:app,arn:origin"


def test_each_function_gets_only_what_it_needs(synthesized: Synth) -> None:
    api = synthesized.templates["api"]
    chat = policy_of(api, function_named(api, "Chimera chat")[1])
    assert "dynamodb:PutItem" in chat and "dynamodb:GetItem" in chat
    assert chat.count("secretsmanager:GetSecretValue") == 3  # app, provider keys, origin
    assert all(secret in chat for secret in ("AppSecret", "ProviderSecret", "OriginSecret"))
    policies = {"chat": chat}
    for name in ("Chimera history", "Chimera usage"):
        policy = policies[name] = policy_of(api, function_named(api, name)[1])
        assert "dynamodb:" not in policy, name
        assert "ProviderSecret" not in policy, name
        assert "AppSecret" in policy and "OriginSecret" in policy, name
        assert policy.count("secretsmanager:GetSecretValue") == 2
    for name, policy in policies.items():
        assert '"Action": "*"' not in policy and ':*"' not in policy, f"{name} has a wildcard action"


def test_cloudfront_serves_the_page_and_routes_the_api(templates: dict[str, Template], synthesized: Synth) -> None:
    web = templates["web"]
    web.resource_count_is("AWS::CloudFront::OriginAccessControl", 1)
    distribution = next(iter(resources(synthesized.templates["web"], "AWS::CloudFront::Distribution").values()))
    config = distribution["Properties"]["DistributionConfig"]
    behaviours = {b["PathPattern"]: b for b in config["CacheBehaviors"]}
    assert list(behaviours) == ["/api/chat", "/api/chat/*", "/api/health", "/api/models", "/api/*"]  # in order
    chat_origin = behaviours["/api/chat"]["TargetOriginId"]
    assert {behaviours[p]["TargetOriginId"] for p in constants.CHAT_PATHS} == {chat_origin}
    assert chat_origin != behaviours["/api/*"]["TargetOriginId"]
    assert behaviours["/api/chat"]["Compress"] is False  # compression would hold tokens back
    for behaviour in behaviours.values():
        assert behaviour["CachePolicyId"] == "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"  # CachingDisabled
        assert "POST" in behaviour["AllowedMethods"]
    assert config["DefaultRootObject"] == "index.html"
    assert config["DefaultCacheBehavior"]["ViewerProtocolPolicy"] == "redirect-to-https"
    web.has_resource_properties(
        "Custom::CDKBucketDeployment",
        {"DistributionPaths": ["/", "/index.html", "/favicon.svg", "/config.json"], "Prune": False},
    )


def test_cloudfront_sends_the_origin_secret_to_both_api_origins(synthesized: Synth) -> None:
    distribution = next(iter(resources(synthesized.templates["web"], "AWS::CloudFront::Distribution").values()))
    config = distribution["Properties"]["DistributionConfig"]
    origins = {o["Id"]: o for o in config["Origins"]}
    api_origins = {b["TargetOriginId"] for b in config["CacheBehaviors"]}
    assert len(api_origins) == 2
    origin_export = next(e for e, kind in data_exports(synthesized.templates).items() if kind == "origin")
    for origin_id in api_origins:
        (header,) = origins[origin_id]["OriginCustomHeaders"]
        assert header["HeaderName"] == "x-chimera-origin"
        assert header["HeaderValue"] == {
            "Fn::Join": [
                "",
                [
                    "{{resolve:secretsmanager:",
                    {"Fn::ImportValue": origin_export},
                    ":SecretString:CHIMERA_ORIGIN_SECRET}}",
                ],
            ]
        }
    page_origin = origins[config["DefaultCacheBehavior"]["TargetOriginId"]]
    assert "OriginCustomHeaders" not in page_origin  # S3 never sees the secret


def test_no_secret_value_is_in_any_template(synthesized: Synth) -> None:
    for name, template in synthesized.templates.items():
        text = json.dumps(template)
        for lookalike in SECRET_LOOKALIKES:
            assert lookalike not in text, f"{name} template contains {lookalike!r}"
        for function in resources(template, "AWS::Lambda::Function").values():
            variables = function["Properties"].get("Environment", {}).get("Variables", {})
            keys = {"GROQ_API_KEY", "GOOGLE_GENERATIVE_AI_API_KEY", "CHIMERA_ORIGIN_SECRET"} & set(variables)
            assert not keys, f"{name}: secrets passed as plain environment: {keys}"
            filled = {k for k in ("DATABASE_URL", "SUPABASE_JWT_SECRET") if variables.get(k)}
            assert not filled, f"{name}: secrets passed as plain environment: {filled}"


def test_every_function_and_the_layer_carry_asset_metadata(synthesized: Synth) -> None:
    api = synthesized.templates["api"]
    assets = {
        **{lid: (r, "Code") for lid, r in resources(api, "AWS::Lambda::Function").items() if "S3Bucket" in str(r)},
        **{lid: (r, "Content") for lid, r in resources(api, "AWS::Lambda::LayerVersion").items()},
    }
    assert {"ChatFunction", "HistoryFunction", "UsageFunction"} <= set(assets)
    assert any(r["Type"] == "AWS::Lambda::LayerVersion" for r, _ in assets.values())
    for logical_id, (resource, prop) in assets.items():
        metadata = resource.get("Metadata", {})
        assert metadata.get("aws:asset:property") == prop, logical_id
        assert (synthesized.outdir / metadata["aws:asset:path"]).is_dir(), logical_id


def shipped_files(synthesized: Synth) -> set[str]:
    _, chat = function_named(synthesized.templates["api"], "Chimera chat")
    asset = synthesized.outdir / chat["Metadata"]["aws:asset:path"]
    return {str(p.relative_to(asset)) for p in asset.rglob("*") if p.is_file()}


def test_the_functions_asset_is_the_app_without_dev_tooling(synthesized: Synth) -> None:
    expected = {
        str(p.relative_to(FUNCTIONS_DIR))
        for p in FUNCTIONS_DIR.rglob("*")
        if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"
        and not p.relative_to(FUNCTIONS_DIR).as_posix().startswith("chimera/dev/")
    }  # fmt: skip
    shipped = shipped_files(synthesized)
    assert not {f for f in shipped if f.startswith("chimera/dev") or "__pycache__" in f}
    assert shipped == expected


def test_no_shipped_module_imports_the_dev_tooling(synthesized: Synth) -> None:
    """chimera/dev is not in the asset: a module-level import of it would fail the cold start."""
    offenders = []
    for name in sorted(f for f in shipped_files(synthesized) if f.endswith(".py")):
        tree = ast.parse((FUNCTIONS_DIR / name).read_text())
        for node in tree.body:  # module level only: an import inside a function runs only when called
            modules = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            offenders += [f"{name}: {m}" for m in modules if m == "chimera.dev" or m.startswith("chimera.dev.")]
    assert not offenders


def test_synth_needs_a_built_layer(tmp_path: Path) -> None:
    app = App(context={"layerPath": str(tmp_path / "missing")}, outdir=str(tmp_path / "out"))
    with pytest.raises(SystemExit, match="make layer"):
        build(app)


def test_a_custom_domain_needs_its_certificate(tmp_path: Path) -> None:
    layer = tmp_path / "layer"
    layer.mkdir()
    app = App(context={"layerPath": str(layer), "domainName": "chat.example.org"}, outdir=str(tmp_path / "out"))
    with pytest.raises(SystemExit, match="certificateArn"):
        build(app)


@pytest.mark.parametrize(
    ("region", "reason"),
    [("ca-west-1", "Function URLs are not offered in ca-west-1"), ("xx-new-1", "Web Adapter layer is not published")],
)
def test_synth_refuses_a_region_where_chat_cannot_run(tmp_path: Path, region: str, reason: str) -> None:
    layer = tmp_path / "layer"
    layer.mkdir()
    app = App(context={"layerPath": str(layer), "region": region}, outdir=str(tmp_path / "out"))
    with pytest.raises(SystemExit, match=reason):
        build(app)


def test_synth_refuses_a_broken_models_file(tmp_path: Path) -> None:
    layer, models = tmp_path / "layer", tmp_path / "models.toml"
    layer.mkdir()
    models.write_text(DEFAULT_FILE.read_text().replace('key = "gemini-flash"', 'key = "gemini-pro"'))
    app = App(context={"layerPath": str(layer), "modelsFile": str(models)}, outdir=str(tmp_path / "out"))
    with pytest.raises(SystemExit, match=f"The model catalogue {models} is not valid"):
        build(app)


def test_region_checks() -> None:
    check_region(None, own_adapter_layer=False)  # env-agnostic synth
    check_region("eu-west-1", own_adapter_layer=False)
    check_region("xx-new-1", own_adapter_layer=True)  # a layer published there by hand
    with pytest.raises(SystemExit, match="Function URLs"):
        check_region("eu-central-2", own_adapter_layer=True)  # no layer helps without Function URLs


def test_a_regional_synth_with_its_own_adapter_layer_models_file_and_no_cors(tmp_path: Path) -> None:
    arn = "arn:aws:lambda:eu-west-1:123456789012:layer:MyAdapter:3"
    models = tmp_path / "models.toml"
    models.write_text(DEFAULT_FILE.read_text().replace("openai/gpt-oss-20b", "groq/compound-mini"))
    synth = synth_app(tmp_path, stage="regional", region="eu-west-1", webAdapterLayerArn=arn, modelsFile=str(models))
    api = synth.templates["api"]
    _, chat = function_named(api, "Chimera chat")
    assert arn in chat["Properties"]["Layers"]
    env = function_environment(api, "Chimera chat")
    assert env["CHIMERA_CORS_ORIGINS"] == "" and env["SUPABASE_URL"] == ""
    # The catalogue ships in a layer of its own, and only the chat function reads it.
    assert env["CHIMERA_MODELS_FILE"] == f"/opt/{constants.MODELS_LAYER_DIR}/catalogue.toml"
    assert "CHIMERA_MODELS_FILE" not in function_environment(api, "Chimera history")
    (models_layer,) = [
        r for r in resources(api, "AWS::Lambda::LayerVersion").values()
        if "model catalogue" in r["Properties"]["Description"]
    ]  # fmt: skip
    shipped = synth.outdir / models_layer["Metadata"]["aws:asset:path"] / constants.MODELS_LAYER_DIR / "catalogue.toml"
    assert shipped.read_text() == models.read_text()
    assert len(chat["Properties"]["Layers"]) == 3  # dependencies, the Web Adapter, the catalogue
    (http_api,) = resources(api, "AWS::ApiGatewayV2::Api").values()
    assert "CorsConfiguration" not in http_api["Properties"]


def test_the_layer_is_built_for_the_runtime_the_functions_run() -> None:
    from layers.build_layer import PYTHON_VERSION

    assert constants.PYTHON_RUNTIME.name == f"python{PYTHON_VERSION}"


def test_the_chat_behaviours_tell_the_app_the_viewers_address(synthesized: Synth) -> None:
    web = synthesized.templates["web"]
    distribution = next(iter(resources(web, "AWS::CloudFront::Distribution").values()))
    behaviours = {b["PathPattern"]: b for b in distribution["Properties"]["DistributionConfig"]["CacheBehaviors"]}
    (function_id, function), *others = resources(web, "AWS::CloudFront::Function").items()
    assert not others
    for path in constants.CHAT_PATHS:
        (association,) = behaviours[path]["FunctionAssociations"]
        assert association["EventType"] == "viewer-request"
        assert association["FunctionARN"] == {"Fn::GetAtt": [function_id, "FunctionARN"]}
    assert "FunctionAssociations" not in behaviours["/api/*"]  # history and usage have no per-network limit

    code = function["Properties"]["FunctionCode"]
    assert constants.VIEWER_IP_HEADER == VIEWER_IP_HEADER  # the header the app reads
    assert f"request.headers['{VIEWER_IP_HEADER}'] = {{ value: event.viewer.ip }};" in code  # set, never appended
    assert function["Properties"]["FunctionConfig"]["Runtime"] == "cloudfront-js-2.0"
    assert function["Properties"]["AutoPublish"] is True
