"""The CDK app: `cdk synth` / `cdk deploy` run this (see cdk.json)."""

from __future__ import annotations

import os
from typing import Any

from aws_cdk import App, Environment, Stage

from infra import nag
from infra.config import DeployConfig
from infra.stacks.chimera_stacks import ApiStack, DataStack, WebStack


def build(app: App | Stage) -> tuple[DataStack, ApiStack, WebStack]:
    config = DeployConfig.from_context(app.node)
    # Account and region come from the CLI's profile at deploy time; synth needs neither.
    env = Environment(account=os.environ.get("CDK_DEFAULT_ACCOUNT"), region=config.region)
    data = DataStack(app, f"{config.prefix}-Data", config=config, env=env)
    api = ApiStack(app, f"{config.prefix}-Api", config=config, data=data.data, env=env)
    web = WebStack(app, f"{config.prefix}-Web", config=config, api=api.api, data=data.data, env=env)
    nag.check(app)
    return data, api, web


# Context every synth gets, whoever runs it. The cdk CLI turns asset metadata on itself; run
# directly (`make synth`, the tests) CDK would leave out the aws:asset:path / aws:asset:property
# metadata that `sam local` needs to find each function's code and the layer.
SYNTH_CONTEXT: dict[str, Any] = {"aws:cdk:enable-asset-metadata": True}


def new_app(*, outdir: str, context: dict[str, Any] | None = None) -> App:
    """An App with SYNTH_CONTEXT under ``context`` (and under the cdk CLI's, which wins)."""
    return App(outdir=outdir, context=SYNTH_CONTEXT | (context or {}))


def main() -> None:
    # The cdk CLI sets CDK_OUTDIR; run directly (make synth), the templates go to cdk.out.
    app = new_app(outdir=os.environ.get("CDK_OUTDIR", "cdk.out"))
    build(app)
    app.synth()


if __name__ == "__main__":
    main()
