"""The page from S3 and the API through one CloudFront distribution, so both share an origin."""

from __future__ import annotations

import base64
import json
from typing import Any

from aws_cdk import (
    Duration,
    Fn,
    RemovalPolicy,
    Stack,
    Token,
    aws_apigatewayv2,
    aws_certificatemanager,
    aws_cloudfront,
    aws_cloudfront_origins,
    aws_lambda,
    aws_s3,
    aws_s3_deployment,
)
from constructs import Construct, Node

from infra import constants, nag
from infra.config import DeployConfig


class ChimeraWeb(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: DeployConfig,
        chat_url: aws_lambda.IFunctionUrl,
        http_api: aws_apigatewayv2.IHttpApi,
        origin_secret_arn: str,
    ) -> None:
        super().__init__(scope, construct_id)
        logs = aws_s3.Bucket(
            self,
            "AccessLogs",
            block_public_access=aws_s3.BlockPublicAccess.BLOCK_ALL,
            encryption=aws_s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            object_ownership=aws_s3.ObjectOwnership.OBJECT_WRITER,  # CloudFront logs need ACLs
            lifecycle_rules=[aws_s3.LifecycleRule(expiration=Duration.days(constants.LOG_RETENTION_DAYS))],
            removal_policy=RemovalPolicy.DESTROY,
            auto_delete_objects=True,
        )
        self.bucket = aws_s3.Bucket(
            self,
            "Page",
            block_public_access=aws_s3.BlockPublicAccess.BLOCK_ALL,
            encryption=aws_s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            server_access_logs_bucket=logs,
            server_access_logs_prefix="s3/",
            removal_policy=RemovalPolicy.DESTROY,
            auto_delete_objects=True,
        )
        # Both API origins get the origin secret as a header; the functions refuse requests without
        # it. A `secretsmanager` dynamic reference works in any resource property and CloudFormation
        # resolves it at deploy, so the value is in no template (CloudFormation User Guide, "Get a
        # secret or secret value from Secrets Manager", read 2026-11). Fn.join because the ARN is a
        # token imported from the Data stack.
        origin_header = {
            constants.ORIGIN_HEADER: Fn.join(
                "",
                [
                    "{{resolve:secretsmanager:",
                    origin_secret_arn,
                    f":SecretString:{constants.ORIGIN_SECRET_KEY}}}}}",
                ],
            )
        }
        no_cache = aws_cloudfront.CachePolicy.CACHING_DISABLED
        forward_all = aws_cloudfront.OriginRequestPolicy.ALL_VIEWER_EXCEPT_HOST_HEADER
        chat = aws_cloudfront.BehaviorOptions(
            origin=aws_cloudfront_origins.FunctionUrlOrigin(
                chat_url, read_timeout=Duration.seconds(60), custom_headers=origin_header
            ),
            viewer_protocol_policy=aws_cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
            allowed_methods=aws_cloudfront.AllowedMethods.ALLOW_ALL,
            cache_policy=no_cache,
            origin_request_policy=forward_all,
            compress=False,  # compression would hold tokens back to fill a block
            function_associations=[
                aws_cloudfront.FunctionAssociation(
                    function=self._viewer_address(), event_type=aws_cloudfront.FunctionEventType.VIEWER_REQUEST
                )
            ],
        )
        api_domain = f"{http_api.api_id}.execute-api.{http_api.stack.region}.amazonaws.com"
        api = aws_cloudfront.BehaviorOptions(
            origin=aws_cloudfront_origins.HttpOrigin(api_domain, custom_headers=origin_header),
            viewer_protocol_policy=aws_cloudfront.ViewerProtocolPolicy.HTTPS_ONLY,
            allowed_methods=aws_cloudfront.AllowedMethods.ALLOW_ALL,
            cache_policy=no_cache,
            origin_request_policy=forward_all,
        )
        self.distribution = aws_cloudfront.Distribution(
            self,
            "Distribution",
            comment=f"Chimera ({config.stage})",
            default_root_object="index.html",
            default_behavior=aws_cloudfront.BehaviorOptions(
                origin=aws_cloudfront_origins.S3BucketOrigin.with_origin_access_control(self.bucket),
                viewer_protocol_policy=aws_cloudfront.ViewerProtocolPolicy.REDIRECT_TO_HTTPS,
                cache_policy=aws_cloudfront.CachePolicy.CACHING_OPTIMIZED,
            ),
            additional_behaviors={**dict.fromkeys(constants.CHAT_PATHS, chat), "/api/*": api},
            domain_names=[config.domain_name] if config.domain_name else None,
            certificate=(
                aws_certificatemanager.Certificate.from_certificate_arn(self, "Certificate", config.certificate_arn)
                if config.certificate_arn
                else None
            ),
            minimum_protocol_version=aws_cloudfront.SecurityPolicyProtocol.TLS_V1_2_2021,
            enable_logging=True,
            log_bucket=logs,
            log_file_prefix="cloudfront/",
        )
        self._accept_findings(custom_domain=config.domain_name is not None)
        self._deploy_page(config)

    def _deploy_page(self, config: DeployConfig) -> None:
        """The built page in two steps. Its bundles are named by their content, so they are cached
        for a year and never pruned: a page opened before a deploy still finds the bundles its
        index.html names. Then the files whose names do not change (index.html, the icon, and
        /config.json, how the page signs people in) with no-cache, so a deploy is seen at once."""
        page = config.frontend_path
        unnamed = ["index.html", "favicon.svg"]
        bundles = aws_s3_deployment.BucketDeployment(
            self,
            "DeployBundles",
            sources=[aws_s3_deployment.Source.asset(str(page), exclude=unnamed)],
            destination_bucket=self.bucket,
            cache_control=[aws_s3_deployment.CacheControl.from_string("public, max-age=31536000, immutable")],
            prune=False,
        )
        entry = aws_s3_deployment.BucketDeployment(
            self,
            "DeployPage",
            sources=[
                *(aws_s3_deployment.Source.data(name, (page / name).read_text()) for name in unnamed),
                aws_s3_deployment.Source.json_data("config.json", page_config(config, self.node)),
            ],
            destination_bucket=self.bucket,
            cache_control=[aws_s3_deployment.CacheControl.no_cache()],
            prune=False,
            distribution=self.distribution,
            distribution_paths=["/", *(f"/{name}" for name in [*unnamed, "config.json"])],
        )
        entry.node.add_dependency(bundles)  # the bundles are there before a page names them

    def _viewer_address(self) -> aws_cloudfront.Function:
        """Writes the viewer's address into ``VIEWER_IP_HEADER`` for the per-network chat limit.

        CloudFront's own ``CloudFront-Viewer-Address`` does not reach the function: the managed
        AllViewerExceptHostHeader policy forwards the viewer's headers (all but Host), not the
        headers CloudFront generates, and a policy that adds them (allViewerAndWhitelistCloudFront)
        also forwards the viewer's Host, which a Function URL or execute-api origin refuses. A
        header written by a viewer-request function is a viewer header to the policy, and the
        assignment replaces whatever a client sent under that name, so the value cannot be forged.
        """
        code = (
            "function handler(event) {\n"
            "  var request = event.request;\n"
            f"  request.headers['{constants.VIEWER_IP_HEADER}'] = {{ value: event.viewer.ip }};\n"
            "  return request;\n"
            "}\n"
        )
        return aws_cloudfront.Function(
            self,
            "ViewerAddress",
            code=aws_cloudfront.FunctionCode.from_inline(code),
            runtime=aws_cloudfront.FunctionRuntime.JS_2_0,
            comment="Chimera: the viewer's address for the per-network chat limit",
        )

    def _accept_findings(self, *, custom_domain: bool) -> None:
        nag.accept(self.distribution, "AwsSolutions-CFR1", "A public chat page: no country is to be refused.")
        nag.accept(
            self.distribution,
            "AwsSolutions-CFR2",
            "Tokens are verified and provider quotas enforced in the app; attach a WAF web ACL "
            "(created in us-east-1) if abuse appears.",
        )
        if not custom_domain:
            nag.accept(
                self.distribution,
                "AwsSolutions-CFR4",
                "Without a custom domain CloudFront serves its default certificate, whose minimum TLS "
                "version cannot be set; set domainName and certificateArn to enforce TLS 1.2.",
            )


def page_config(config: DeployConfig, node: Node) -> dict[str, Any]:
    """The page's /config.json: Supabase Auth when the project's URL and publishable key are given,
    else a pasted token (a deployed page has no local person).

    The publishable key (context ``supabasePublishableKey``, or a legacy ``anon`` key) is public by
    design: it only says which app is calling, and reaches what row-level security allows
    (supabase.com/docs/guides/api/api-keys, read 2026-11-26). A secret key here would be served to
    every visitor, so one is refused. ``supabaseMagicLink`` (default true) mirrors the project's
    Auth > Email setting, which GoTrue's public settings do not reveal.
    """
    key = str(node.try_get_context("supabasePublishableKey") or "").strip()
    if key.startswith("sb_secret_") or _is_service_role_jwt(key):
        raise SystemExit("supabasePublishableKey is a secret key: give the publishable (or anon) key.")
    magic_link = str(node.try_get_context("supabaseMagicLink") or "true").strip().lower() not in ("false", "0", "no")
    if config.supabase_url and key:
        return {
            "auth": {
                "provider": "supabase",
                "url": config.supabase_url.rstrip("/"),
                "publishableKey": key,
                "magicLink": magic_link,
            }
        }
    return {"auth": {"provider": "token"}}


def _is_service_role_jwt(key: str) -> bool:
    """A legacy ``service_role`` key is a JWT whose payload says so."""
    parts = key.split(".")
    if len(parts) != 3:
        return False
    try:
        payload = json.loads(base64.urlsafe_b64decode(parts[1] + "=" * (-len(parts[1]) % 4)))
    except ValueError:
        return False
    return isinstance(payload, dict) and payload.get("role") == "service_role"


def _cdk_assets(stack: Stack) -> str:
    """The bootstrap assets bucket as cdk-nag prints it: a known account or region appears literally."""
    account = "<AWS::AccountId>" if Token.is_unresolved(stack.account) else stack.account
    region = "<AWS::Region>" if Token.is_unresolved(stack.region) else stack.region
    return f"arn:<AWS::Partition>:s3:::cdk-hnb659fds-assets-{account}-{region}/*"


def accept_bucket_deployment_findings(stack: Stack, *, page_bucket: aws_s3.IBucket) -> None:
    """The page upload runs in a Lambda that CDK owns; its role and runtime are CDK's choice."""
    page = stack.get_logical_id(page_bucket.node.default_child)  # type: ignore[arg-type]
    cdk_assets = _cdk_assets(stack)
    copy_anything = "CDK's BucketDeployment handler reads the page asset and replaces the page bucket's objects."
    findings = {
        nag.BASIC_EXECUTION_ROLE: "CDK's BucketDeployment handler uses the basic execution role for its logs.",
        "AwsSolutions-L1": "CDK pins the BucketDeployment handler's runtime.",
        "AwsSolutions-IAM5[Resource::*]": "CDK's BucketDeployment handler invalidates the distribution (no ARN form).",
        f"AwsSolutions-IAM5[Resource::<{page}.Arn>/*]": copy_anything,
        f"AwsSolutions-IAM5[Resource::{cdk_assets}]": copy_anything,
        **{
            f"AwsSolutions-IAM5[Action::s3:{action}*]": copy_anything
            for action in ("GetObject", "GetBucket", "List", "DeleteObject", "Abort")
        },
    }
    for construct in stack.node.children:
        if construct.node.id.startswith("Custom::CDKBucketDeployment"):
            for rule, reason in findings.items():
                nag.accept(construct, rule, reason)
