"""Each stack composes one concern's construct; the app wires their outputs together."""

from __future__ import annotations

from typing import Any

from aws_cdk import CfnOutput, Stack
from constructs import Construct

from infra.config import DeployConfig
from infra.constructs.api import ChimeraApi
from infra.constructs.data import ChimeraData
from infra.constructs.web import ChimeraWeb, accept_bucket_deployment_findings


class DataStack(Stack):
    def __init__(self, scope: Construct, construct_id: str, *, config: DeployConfig, **kwargs: Any) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.data = ChimeraData(self, "Data", stage=config.stage)
        CfnOutput(self, "AppSecretName", value=self.data.app_secret.secret_name)
        CfnOutput(self, "ProviderSecretName", value=self.data.provider_secret.secret_name)
        CfnOutput(self, "OriginSecretName", value=self.data.origin_secret.secret_name)


class ApiStack(Stack):
    def __init__(
        self, scope: Construct, construct_id: str, *, config: DeployConfig, data: ChimeraData, **kwargs: Any
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.api = ChimeraApi(
            self,
            "Api",
            config=config,
            state_table=data.state_table,
            app_secret=data.app_secret,
            provider_secret=data.provider_secret,
            origin_secret=data.origin_secret,
        )
        CfnOutput(self, "ChatFunctionUrl", value=self.api.chat_url.url)
        CfnOutput(self, "HttpApiUrl", value=self.api.http_api.api_endpoint)


class WebStack(Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: DeployConfig,
        api: ChimeraApi,
        data: ChimeraData,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, **kwargs)
        self.web = ChimeraWeb(
            self,
            "Web",
            config=config,
            chat_url=api.chat_url,
            http_api=api.http_api,
            origin_secret_arn=data.origin_secret.secret_arn,
        )
        accept_bucket_deployment_findings(self, page_bucket=self.web.bucket)
        domain = config.domain_name or self.web.distribution.distribution_domain_name
        CfnOutput(self, "Url", value=f"https://{domain}")
