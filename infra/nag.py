"""cdk-nag's AWS Solutions checks, and the findings we accept, each with its reason.

cdk-nag 3 runs as a CDK policy-validation plugin: an unacknowledged finding fails the synth.
"""

from __future__ import annotations

from aws_cdk import Acknowledgment, App, Stage, Validations
from cdk_nag import AwsSolutionsChecks
from constructs import IConstruct


def check(app: App | Stage) -> None:
    Validations.of(app).add_plugins(AwsSolutionsChecks(app))


def accept(scope: IConstruct, rule: str, reason: str) -> None:
    Validations.of(scope).acknowledge(Acknowledgment(id=rule, reason=reason))


# The AWS-managed policy every Lambda role gets: it only lets a function write its own logs.
BASIC_EXECUTION_ROLE = (
    "AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]"
)
