"""The provider-health table and the secrets the functions read."""

from __future__ import annotations

from aws_cdk import RemovalPolicy, aws_dynamodb, aws_secretsmanager
from constructs import Construct

from infra import constants, nag


class ChimeraData(Construct):
    def __init__(self, scope: Construct, construct_id: str, *, stage: str) -> None:
        super().__init__(scope, construct_id)
        self.health_table = aws_dynamodb.TableV2(
            self,
            "ProviderHealth",
            partition_key=aws_dynamodb.Attribute(
                name=constants.HEALTH_TABLE_PARTITION_KEY, type=aws_dynamodb.AttributeType.STRING
            ),
            billing=aws_dynamodb.Billing.on_demand(),
            time_to_live_attribute=constants.HEALTH_TABLE_TTL_ATTRIBUTE,
            point_in_time_recovery_specification=aws_dynamodb.PointInTimeRecoverySpecification(
                point_in_time_recovery_enabled=True
            ),
            # Health is rebuilt from the next few requests; nothing of value is lost with it.
            removal_policy=RemovalPolicy.DESTROY,
        )
        # Created empty (a generated placeholder); you put the real JSON in after the first deploy,
        # so no secret value ever appears in a template.
        self.app_secret = aws_secretsmanager.Secret(
            self, "AppSecret", description=constants.APP_SECRET_DESCRIPTION, secret_name=f"chimera/{stage}/app"
        )
        self.provider_secret = aws_secretsmanager.Secret(
            self,
            "ProviderSecret",
            description=constants.PROVIDER_SECRET_DESCRIPTION,
            secret_name=f"chimera/{stage}/providers",
        )
        for secret in (self.app_secret, self.provider_secret):
            nag.accept(
                secret,
                "AwsSolutions-SMG4",
                "Third-party API keys and the Supabase JWT secret are rotated at their issuers; "
                "a Lambda rotation function could not rotate them.",
            )
