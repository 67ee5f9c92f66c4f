"""The chat function on Lambda Managed Instances (context `chatManagedInstances`), synthesized once
with cdk-nag, checked resource by resource and by cfn-lint; without the flag nothing changes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from aws_cdk.assertions import Match, Template
from cfnlint.api import ManualArgs, lint_file

from infra.config import MANAGED_MAX_VCPUS, STREAMS_PER_ENVIRONMENT
from tests.infra.test_cfn_lint import ACCEPTED_WARNINGS, REGIONS
from tests.support.templates import CONTEXT, Synth, resources, synth_app

SUBNETS = "subnet-0123456789abcdef0,subnet-0fedcba9876543210"
SECURITY_GROUP = "sg-0123456789abcdef0"
MANAGED = {
    **{k: v for k, v in CONTEXT.items() if k != "chatReservedConcurrency"},
    "stage": "prod",
    "chatManagedInstances": "true",
    "chatSubnetIds": SUBNETS,
    "chatSecurityGroupIds": SECURITY_GROUP,
}


@pytest.fixture(scope="module")
def managed(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    return synth_app(tmp_path_factory.mktemp("managed"), **MANAGED)


def chat_function(template: dict[str, Any]) -> dict[str, Any]:
    return next(
        f for f in resources(template, "AWS::Lambda::Function").values() if f["Properties"].get("Handler") == "run.sh"
    )


def test_the_chat_function_runs_on_a_capacity_provider_many_streams_each(managed: Synth) -> None:
    api = Template.from_json(managed.templates["api"])
    api.has_resource_properties(
        "AWS::Lambda::CapacityProvider",
        {
            "VpcConfig": {
                "SubnetIds": SUBNETS.split(","),
                "SecurityGroupIds": [SECURITY_GROUP],
            },
            "CapacityProviderScalingConfig": Match.object_like({"MaxVCpuCount": MANAGED_MAX_VCPUS["prod"]}),
        },
    )
    chat = chat_function(managed.templates["api"])["Properties"]
    config = chat["CapacityProviderConfig"]["LambdaManagedInstancesCapacityProviderConfig"]
    assert config["PerExecutionEnvironmentMaxConcurrency"] == STREAMS_PER_ENVIRONMENT
    assert config["ExecutionEnvironmentMemoryGiBPerVCpu"] == 2  # one vCPU: uvicorn runs one process
    assert chat["MemorySize"] == 2048
    assert "ReservedConcurrentExecutions" not in chat
    # Still streamed through the Web Adapter behind a Function URL.
    api.has_resource_properties("AWS::Lambda::Url", {"InvokeMode": "RESPONSE_STREAM"})
    assert chat["Environment"]["Variables"]["AWS_LWA_INVOKE_MODE"] == "response_stream"


def test_history_and_usage_stay_ordinary_functions(managed: Synth) -> None:
    functions = resources(managed.templates["api"], "AWS::Lambda::Function").values()
    others = [f for f in functions if f["Properties"].get("Handler") != "run.sh"]
    assert others and all("CapacityProviderConfig" not in f["Properties"] for f in others)


def test_without_the_flag_there_is_no_capacity_provider(synthesized: Synth) -> None:
    assert not resources(synthesized.templates["api"], "AWS::Lambda::CapacityProvider")
    assert "CapacityProviderConfig" not in chat_function(synthesized.templates["api"])["Properties"]


def test_cfn_lint_finds_nothing_we_have_not_accepted(managed: Synth) -> None:
    matches = lint_file(Path(managed.template_paths["api"]), ManualArgs(regions=REGIONS))
    found = [
        f"{m.rule.id} {m.message} (line {m.linenumber})"
        for m in matches
        if m.rule.id.startswith("E") or (m.rule.id.startswith("W") and m.rule.id not in ACCEPTED_WARNINGS)
    ]
    assert not found, "\n".join(found)


@pytest.mark.parametrize(
    ("context", "says"),
    [
        ({"chatSecurityGroupIds": SECURITY_GROUP}, "chatSubnetIds"),
        (
            {"chatSubnetIds": SUBNETS, "chatSecurityGroupIds": SECURITY_GROUP, "chatReservedConcurrency": "5"},
            "chatMaxVcpus",
        ),
        (
            {"chatSubnetIds": SUBNETS, "chatSecurityGroupIds": SECURITY_GROUP, "chatStreamsPerEnvironment": "0"},
            "between 1 and 1600",
        ),
    ],
)
def test_a_managed_deploy_missing_its_network_is_refused_before_synth(
    tmp_path: Path, context: dict[str, str], says: str
) -> None:
    with pytest.raises(SystemExit, match=says):
        synth_app(tmp_path, stage="prod", chatManagedInstances="true", **context)
