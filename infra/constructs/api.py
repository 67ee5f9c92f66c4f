"""The functions, their dependency layer, the chat Function URL and the HTTP API.

Each function gets only its own routes, secrets and permissions: chat reads the app, provider and
origin secrets and writes the runtime-state table; history and usage read the app and origin
secrets and nothing else.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from aws_cdk import (
    Duration,
    Stack,
    aws_apigatewayv2,
    aws_apigatewayv2_integrations,
    aws_dynamodb,
    aws_ec2,
    aws_lambda,
    aws_logs,
    aws_secretsmanager,
)
from constructs import Construct

from infra import constants, nag
from infra.config import MANAGED_MEMORY_MB, DeployConfig, ManagedInstances

# chimera/dev (CLI, simulator, embedded Postgres, dev-token route) is laptop tooling: never shipped.
CODE_EXCLUDES = ["**/__pycache__", "**/*.pyc", "chimera/dev"]


class ChimeraApi(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: DeployConfig,
        state_table: aws_dynamodb.ITableV2,
        app_secret: aws_secretsmanager.ISecret,
        provider_secret: aws_secretsmanager.ISecret,
        origin_secret: aws_secretsmanager.ISecret,
    ) -> None:
        super().__init__(scope, construct_id)
        self._config = config
        self._code = aws_lambda.Code.from_asset(str(config.functions_path), exclude=CODE_EXCLUDES)
        self._dependencies = aws_lambda.LayerVersion(
            self,
            "Dependencies",
            code=aws_lambda.Code.from_asset(str(config.layer_path)),
            compatible_runtimes=[constants.PYTHON_RUNTIME],
            compatible_architectures=[constants.ARCHITECTURE],
            description="Chimera's Python dependencies, from uv.lock (make layer)",
        )
        common_env = {
            "CHIMERA_STAGE": "prod",
            "CHIMERA_EMIT_METRICS": "true",
            "POWERTOOLS_SERVICE_NAME": constants.SERVICE,
            "POWERTOOLS_METRICS_NAMESPACE": "Chimera",
            # Declared for `sam local --env-vars`; empty means unset, and the secrets fill them in AWS.
            **dict.fromkeys(constants.SAM_OVERRIDABLE, ""),
            "SUPABASE_URL": config.supabase_url,
        }

        managed = config.chat_managed_instances
        self.chat = self._function(
            "Chat",
            handler="run.sh",
            memory_mb=MANAGED_MEMORY_MB if managed else constants.CHAT_MEMORY_MB,
            timeout=constants.CHAT_TIMEOUT,
            environment=common_env
            | {
                "AWS_LAMBDA_EXEC_WRAPPER": "/opt/bootstrap",
                "AWS_LWA_INVOKE_MODE": "response_stream",
                "AWS_LWA_READINESS_CHECK_PROTOCOL": "tcp",  # ready once uvicorn listens
                "PORT": str(constants.WEB_ADAPTER_PORT),
                # The app's CORSMiddleware owns CORS on the Function URL (none is configured on
                # the URL itself: two owners would send the headers twice).
                "CHIMERA_CORS_ORIGINS": ",".join(config.allowed_origins),
                "CHIMERA_STATE_TABLE": state_table.table_name,
                "CHIMERA_SECRET_IDS": ",".join(s.secret_arn for s in (app_secret, provider_secret, origin_secret)),
            },
            layers=[self._web_adapter_layer(), *self._models_layer()],
            reserved_concurrency=config.chat_reserved_concurrency,
        )
        if config.models_file is not None:
            self.chat.add_environment("CHIMERA_MODELS_FILE", f"/opt/{constants.MODELS_LAYER_DIR}/catalogue.toml")
        self.capacity_provider = self._managed_instances(managed) if managed else None
        # History and usage: the same small Mangum function, each with its own module.
        self.history, self.usage = (
            self._function(
                name,
                handler=f"{name.lower()}.handler",
                memory_mb=constants.API_MEMORY_MB,
                timeout=constants.API_TIMEOUT,
                environment=common_env
                | {"CHIMERA_SECRET_IDS": ",".join(s.secret_arn for s in (app_secret, origin_secret))},
            )
            for name in ("History", "Usage")
        )

        # Least privilege, granted where the resources meet.
        state_table.grant_read_write_data(self.chat)
        provider_secret.grant_read(self.chat)
        for function in (self.chat, self.history, self.usage):
            app_secret.grant_read(function)
            origin_secret.grant_read(function)

        self.chat_url = self.chat.add_function_url(
            auth_type=aws_lambda.FunctionUrlAuthType.NONE,
            invoke_mode=aws_lambda.InvokeMode.RESPONSE_STREAM,
        )
        self.http_api = self._http_api()
        self._accept_findings()

    def _accept_findings(self) -> None:
        for function in (self.chat, self.history, self.usage):
            nag.accept(
                function,
                nag.BASIC_EXECUTION_ROLE,
                "AWSLambdaBasicExecutionRole only lets the function write its own CloudWatch logs.",
            )
            nag.accept(
                function,
                "AwsSolutions-IAM5[Resource::*]",
                "X-Ray's PutTraceSegments and PutTelemetryRecords accept no resource narrower than *.",
            )
            nag.accept(
                function,
                "AwsSolutions-L1",
                "python3.13 on purpose: the tests run on the runtime's minor version and these "
                "machines have 3.13; Lambda supports it until 2029-06-30 (Lambda runtimes page, read 2026-11).",
            )
        nag.accept(
            self.http_api,
            "AwsSolutions-APIG4",
            "Every route verifies the Supabase access token in the function itself; an HTTP API JWT "
            "authorizer cannot check Supabase's HS256 tokens.",
        )

    def _function(
        self,
        name: str,
        *,
        handler: str,
        memory_mb: int,
        timeout: Duration,
        environment: dict[str, str],
        layers: list[aws_lambda.ILayerVersion] | None = None,
        reserved_concurrency: int | None = None,
    ) -> aws_lambda.Function:
        log_group = aws_logs.LogGroup(self, f"{name}Logs", retention=aws_logs.RetentionDays.ONE_MONTH)
        function = aws_lambda.Function(
            self,
            name,
            runtime=constants.PYTHON_RUNTIME,
            architecture=constants.ARCHITECTURE,
            code=self._code,
            handler=handler,
            memory_size=memory_mb,
            timeout=timeout,
            environment=environment,
            layers=[self._dependencies, *(layers or [])],
            reserved_concurrent_executions=reserved_concurrency,
            tracing=aws_lambda.Tracing.ACTIVE,
            log_group=log_group,
            description=f"Chimera {name.lower()} ({self._config.stage})",
        )
        # A fixed logical id: the name `sam local invoke` takes (constants.FUNCTION_LOGICAL_IDS).
        cfn_function = function.node.default_child
        assert isinstance(cfn_function, aws_lambda.CfnFunction)
        cfn_function.override_logical_id(constants.FUNCTION_LOGICAL_IDS[name])
        return function

    def _managed_instances(self, managed: ManagedInstances) -> aws_lambda.CapacityProvider:
        """The chat function on Lambda Managed Instances: an execution environment takes many
        streams at once (the Web Adapter forwards concurrent invocations to the one uvicorn), one
        vCPU each, up to ``max_vcpus`` for the whole provider.

        The subnets and security groups are imported by id (no lookup at synth). Lambda scales
        these instances on CPU and concurrency, not on arrival: traffic that more than doubles
        within five minutes may be throttled while it catches up (README, "Performance").
        """
        subnets = [
            aws_ec2.Subnet.from_subnet_id(self, f"ChatSubnet{n}", subnet_id)
            for n, subnet_id in enumerate(managed.subnet_ids)
        ]
        groups = [
            aws_ec2.SecurityGroup.from_security_group_id(self, f"ChatSecurityGroup{n}", group_id, mutable=False)
            for n, group_id in enumerate(managed.security_group_ids)
        ]
        provider = aws_lambda.CapacityProvider(
            self,
            "ChatCapacity",
            subnets=subnets,
            security_groups=groups,
            architectures=[constants.ARCHITECTURE],
            max_v_cpu_count=managed.max_vcpus,
        )
        nag.accept(
            provider,
            "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/AWSLambdaManagedEC2ResourceOperator]",
            "The operator role Lambda assumes to launch and manage the provider's EC2 instances; AWS "
            "maintains this policy for exactly that (Lambda Managed Instances, operator role).",
        )
        provider.add_function(
            self.chat,
            per_execution_environment_max_concurrency=managed.streams_per_environment,
            execution_environment_memory_gib_per_v_cpu=MANAGED_MEMORY_MB / 1024,
        )
        return provider

    def _models_layer(self) -> list[aws_lambda.ILayerVersion]:
        """Context `modelsFile`: the catalogue in a small layer of its own, at /opt/chimera-models.

        Providers retire model ids every few months; a new catalogue is then a redeploy of this
        layer, with no change to the code.
        """
        if self._config.models_file is None:
            return []
        staged = Path(tempfile.mkdtemp(prefix="chimera-models-")) / constants.MODELS_LAYER_DIR
        staged.mkdir()
        shutil.copyfile(self._config.models_file, staged / "catalogue.toml")
        layer = aws_lambda.LayerVersion(
            self,
            "Models",
            code=aws_lambda.Code.from_asset(str(staged.parent)),
            compatible_runtimes=[constants.PYTHON_RUNTIME],
            compatible_architectures=[constants.ARCHITECTURE],
            description="Chimera's model catalogue (context modelsFile)",
        )
        return [layer]

    def _web_adapter_layer(self) -> aws_lambda.ILayerVersion:
        # Env-agnostic synth leaves the region to CloudFormation (${AWS::Region}).
        arn = self._config.web_adapter_layer_arn or (
            f"arn:aws:lambda:{Stack.of(self).region}:{constants.WEB_ADAPTER_ACCOUNT}:layer:"
            f"{constants.WEB_ADAPTER_LAYER}:{constants.WEB_ADAPTER_VERSION}"
        )
        return aws_lambda.LayerVersion.from_layer_version_arn(self, "WebAdapter", arn)

    def _http_api(self) -> aws_apigatewayv2.HttpApi:
        # API Gateway owns CORS here: it answers preflight itself and ignores CORS headers from the
        # integration (API Gateway Developer Guide, "Configure CORS for HTTP APIs", read 2026-11).
        origins = self._config.allowed_origins
        cors = (
            aws_apigatewayv2.CorsPreflightOptions(
                allow_origins=list(origins),
                allow_methods=[aws_apigatewayv2.CorsHttpMethod(m) for m in constants.CORS_METHODS],
                allow_headers=list(constants.CORS_HEADERS),
                max_age=constants.CORS_MAX_AGE,
            )
            if origins
            else None
        )
        api = aws_apigatewayv2.HttpApi(self, "HttpApi", description="Chimera history and usage", cors_preflight=cors)
        access_logs = aws_logs.LogGroup(self, "HttpApiAccessLogs", retention=aws_logs.RetentionDays.ONE_MONTH)
        stage = api.default_stage
        assert stage is not None
        cfn_stage = stage.node.default_child
        assert isinstance(cfn_stage, aws_apigatewayv2.CfnStage)
        cfn_stage.access_log_settings = aws_apigatewayv2.CfnStage.AccessLogSettingsProperty(
            destination_arn=access_logs.log_group_arn,
            format='{"requestId":"$context.requestId","route":"$context.routeKey",'
            '"status":"$context.status","latencyMs":"$context.responseLatency"}',
        )
        history = aws_apigatewayv2_integrations.HttpLambdaIntegration("History", self.history)
        usage = aws_apigatewayv2_integrations.HttpLambdaIntegration("Usage", self.usage)
        methods = aws_apigatewayv2.HttpMethod
        api.add_routes(path="/api/conversations", methods=[methods.GET], integration=history)
        api.add_routes(
            path="/api/conversations/{id}", methods=[methods.GET, methods.PATCH, methods.DELETE], integration=history
        )
        api.add_routes(path="/api/usage", methods=[methods.GET], integration=usage)
        return api
