"""The CDK app, synthesized once (with cdk-nag's AWS Solutions checks), checked resource by resource."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aws_cdk import App
from aws_cdk.assertions import Match, Template

from infra.app import build

os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")
SECRET_LOOKALIKES = ("postgresql://", "gsk_", "AIza", "sk-", "SUPABASE_JWT_SECRET=", "test-secret")


@pytest.fixture(scope="session")
def templates(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Template]]:
    layer = tmp_path_factory.mktemp("layer")
    (layer / "python").mkdir()
    context = {"layerPath": str(layer), "stage": "test", "allowedOrigins": "https://chat.example.org",
               "chatReservedConcurrency": "7"}  # fmt: skip
    app = App(context=context, outdir=str(tmp_path_factory.mktemp("cdk.out")))
    data, api, web = build(app)
    # Template.from_stack synthesizes the app: cdk-nag runs here and fails on any open finding.
    yield {"data": Template.from_stack(data), "api": Template.from_stack(api), "web": Template.from_stack(web)}


def resources(template: Template, kind: str) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = template.find_resources(kind)
    return found


def function_named(template: Template, description: str) -> tuple[str, dict[str, Any]]:
    for logical_id, resource in resources(template, "AWS::Lambda::Function").items():
        if resource["Properties"].get("Description", "").startswith(description):
            return logical_id, resource["Properties"]
    raise AssertionError(f"no function described as {description!r}")


def policy_of(template: Template, function_props: dict[str, Any]) -> str:
    role = function_props["Role"]["Fn::GetAtt"][0]
    policies = [
        p["Properties"]["PolicyDocument"]
        for p in resources(template, "AWS::IAM::Policy").values()
        if {"Ref": role} in p["Properties"]["Roles"]
    ]
    return json.dumps(policies)


def test_the_chat_function_streams_through_the_web_adapter(templates: dict[str, Template]) -> None:
    api = templates["api"]
    api.has_resource_properties(
        "AWS::Lambda::Url",
        {"InvokeMode": "RESPONSE_STREAM", "AuthType": "NONE", "TargetFunctionArn": Match.any_value()},
    )
    api.has_resource_properties(
        "AWS::Lambda::Function",
        {
            "Handler": "run.sh",
            "Runtime": "python3.14",
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
                        "CHIMERA_CORS_ORIGINS": "https://chat.example.org",
                    }
                )
            },
        },
    )
    _, chat = function_named(api, "Chimera chat")
    layers = json.dumps(chat["Layers"])
    assert ":753240598075:layer:LambdaAdapterLayerArm64:" in layers
    assert len(chat["Layers"]) == 2  # the adapter and our dependencies


def test_history_and_usage_are_routes_of_the_http_api(templates: dict[str, Template]) -> None:
    api = templates["api"]
    for route in (
        "GET /api/conversations",
        "GET /api/conversations/{id}",
        "PATCH /api/conversations/{id}",
        "DELETE /api/conversations/{id}",
        "GET /api/usage",
    ):
        api.has_resource_properties("AWS::ApiGatewayV2::Route", {"RouteKey": route})
    assert len(resources(api, "AWS::ApiGatewayV2::Route")) == 5
    api.has_resource_properties(
        "AWS::ApiGatewayV2::Stage",
        {"AccessLogSettings": {"DestinationArn": Match.any_value(), "Format": Match.any_value()}},
    )
    for name in ("Chimera history", "Chimera usage"):
        _, props = function_named(api, name)
        assert props["Handler"] in {"history.handler", "usage.handler"}
        assert props["Timeout"] == 10 and "AWS_LAMBDA_EXEC_WRAPPER" not in props["Environment"]["Variables"]


def test_the_health_table_has_its_key_ttl_and_recovery(templates: dict[str, Template]) -> None:
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


def test_each_function_gets_only_what_it_needs(templates: dict[str, Template]) -> None:
    api = templates["api"]
    chat = policy_of(api, function_named(api, "Chimera chat")[1])
    assert "dynamodb:PutItem" in chat and "dynamodb:GetItem" in chat
    assert chat.count("secretsmanager:GetSecretValue") >= 2  # the app secret and the provider keys
    policies = {"chat": chat}
    for name in ("Chimera history", "Chimera usage"):
        policy = policies[name] = policy_of(api, function_named(api, name)[1])
        assert "dynamodb:" not in policy, name
        assert "ProviderSecret" not in policy, name
        assert policy.count("secretsmanager:GetSecretValue") == 1
    for name, policy in policies.items():
        assert '"Action": "*"' not in policy and ':*"' not in policy, f"{name} has a wildcard action"


def test_cloudfront_serves_the_page_and_routes_the_api(templates: dict[str, Template]) -> None:
    web = templates["web"]
    web.resource_count_is("AWS::CloudFront::OriginAccessControl", 1)
    distribution = next(iter(resources(web, "AWS::CloudFront::Distribution").values()))["Properties"]
    config = distribution["DistributionConfig"]
    behaviours = {b["PathPattern"]: b for b in config["CacheBehaviors"]}
    assert set(behaviours) == {"/api/chat", "/api/health", "/api/*"}
    assert behaviours["/api/chat"]["TargetOriginId"] == behaviours["/api/health"]["TargetOriginId"]
    assert behaviours["/api/chat"]["TargetOriginId"] != behaviours["/api/*"]["TargetOriginId"]
    assert behaviours["/api/chat"]["Compress"] is False  # compression would hold tokens back
    for behaviour in behaviours.values():
        assert behaviour["CachePolicyId"] == "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"  # CachingDisabled
        assert "POST" in behaviour["AllowedMethods"]
    assert config["DefaultRootObject"] == "index.html"
    assert config["DefaultCacheBehavior"]["ViewerProtocolPolicy"] == "redirect-to-https"
    web.has_resource_properties("Custom::CDKBucketDeployment", {"DistributionPaths": ["/*"]})


def test_no_secret_value_is_in_any_template(templates: dict[str, Template]) -> None:
    for name, template in templates.items():
        text = json.dumps(template.to_json())
        for lookalike in SECRET_LOOKALIKES:
            assert lookalike not in text, f"{name} template contains {lookalike!r}"
        for function in resources(template, "AWS::Lambda::Function").values():
            variables = function["Properties"].get("Environment", {}).get("Variables", {})
            leaked = {"GROQ_API_KEY", "GOOGLE_GENERATIVE_AI_API_KEY", "DATABASE_URL", "SUPABASE_JWT_SECRET"} & set(
                variables
            )
            assert not leaked, f"{name}: secrets passed as plain environment: {leaked}"
    secrets = resources(templates["data"], "AWS::SecretsManager::Secret")
    assert len(secrets) == 2 and all("SecretString" not in s["Properties"] for s in secrets.values())


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
