"""The CDK app synthesized once per test session, and readers for what each function is given.

Use the ``synthesized`` fixture (import it into a test module or a conftest:
``from tests.support.templates import synthesized  # noqa: F401``), or call ``session_synth``
with pytest's ``tmp_path_factory``. Either way the app is synthesized once per session, however
many suites ask, into pytest's temporary directory, with an empty dependency layer (the synth
only needs the directory to exist). cdk-nag runs in that synth and fails it on an open finding.

    env = function_environment(synth.templates["api"], "Chimera history")
    env["CHIMERA_SECRET_IDS"]   # {"Fn::Join": ["", [{"Fn::ImportValue": "…AppSecret…"}, ",", …]]}
    kinds = data_exports(synth.templates)           # export name -> "app" | "providers" | "origin" | "state_table"
    resolve_environment(env, kinds, {"app": app_arn, "origin": origin_arn, ...})  # plain strings
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support.page import built_page

os.environ.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")

STAGE = "test"
# The context of the session's synth: every optional feature on, so the tests see it.
CONTEXT: dict[str, Any] = {
    "stage": STAGE,
    "allowedOrigins": "https://chat.example.org",
    "chatReservedConcurrency": "7",
    "supabaseUrl": "https://project.supabase.co",
}


def stack_names(stage: str) -> dict[str, str]:
    return {"data": f"Chimera-{stage}-Data", "api": f"Chimera-{stage}-Api", "web": f"Chimera-{stage}-Web"}


SECRET_KINDS = ("app", "providers", "origin")


@dataclass(frozen=True)
class Synth:
    outdir: Path  # the cloud assembly: templates, asset directories, manifest
    templates: dict[str, dict[str, Any]]  # "data" | "api" | "web" -> the template as a dict
    template_paths: dict[str, Path]  # "data" | "api" | "web" -> its file in outdir


def synth_app(root: Path, **context: Any) -> Synth:
    """Synthesize the app the way `make synth` does (infra.app.new_app) under ``root``."""
    from infra.app import build, new_app  # imported here: importing aws_cdk starts jsii's Node

    layer = root / "layer"
    (layer / "python").mkdir(parents=True, exist_ok=True)
    outdir = root / "cdk.out"
    app = new_app(outdir=str(outdir), context={"layerPath": str(layer), **context})
    # The caller's AWS profile must not pick the region: the session's synth is env-agnostic
    # unless the context says `region`.
    saved = {k: os.environ.pop(k) for k in ("CDK_DEFAULT_REGION", "CDK_DEFAULT_ACCOUNT") if k in os.environ}
    built_page()  # the Web construct deploys frontend/dist
    try:
        build(app)
        app.synth()
    finally:
        os.environ.update(saved)
    paths = {
        name: outdir / f"{stack}.template.json" for name, stack in stack_names(context.get("stage", "dev")).items()
    }
    templates = {name: json.loads(path.read_text()) for name, path in paths.items()}
    return Synth(outdir=outdir, templates=templates, template_paths=paths)


_session: dict[str, Synth] = {}


def session_synth(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    """The session's one synth (with CONTEXT), made on first use."""
    if "synth" not in _session:
        _session["synth"] = synth_app(tmp_path_factory.mktemp("synth"), **CONTEXT)
    return _session["synth"]


@pytest.fixture(scope="session")
def synthesized(tmp_path_factory: pytest.TempPathFactory) -> Synth:
    return session_synth(tmp_path_factory)


def resources(template: Mapping[str, Any], kind: str) -> dict[str, dict[str, Any]]:
    return {lid: r for lid, r in template.get("Resources", {}).items() if r["Type"] == kind}


def function_named(template: Mapping[str, Any], description_prefix: str) -> tuple[str, dict[str, Any]]:
    """(logical id, resource) of the function whose Description starts with the prefix."""
    for logical_id, resource in resources(template, "AWS::Lambda::Function").items():
        if resource["Properties"].get("Description", "").startswith(description_prefix):
            return logical_id, resource
    raise AssertionError(f"no function described as {description_prefix!r}")


def function_environment(template: Mapping[str, Any], description_prefix: str) -> dict[str, Any]:
    """The function's Environment.Variables; values are strings or intrinsics ({"Fn::ImportValue": …})."""
    _, resource = function_named(template, description_prefix)
    variables: dict[str, Any] = resource["Properties"].get("Environment", {}).get("Variables", {})
    return variables


def data_exports(templates: Mapping[str, Mapping[str, Any]]) -> dict[str, str]:
    """Each export of the Data stack, by name, to what it names: a secret kind or "state_table"."""
    data = templates["data"]
    kinds: dict[str, str] = {}
    for output in data.get("Outputs", {}).values():
        export = output.get("Export", {}).get("Name")
        ref = output.get("Value", {}).get("Ref") if isinstance(output.get("Value"), dict) else None
        if not export or not ref:
            continue
        resource = data["Resources"][ref]
        if resource["Type"] == "AWS::SecretsManager::Secret":
            kinds[export] = resource["Properties"]["Name"].rsplit("/", 1)[-1]  # chimera/<stage>/<kind>
        elif resource["Type"] == "AWS::DynamoDB::GlobalTable":
            kinds[export] = "state_table"
    return kinds


def secret_arn_refs(templates: Mapping[str, Mapping[str, Any]], description_prefix: str) -> list[str]:
    """The secret kinds a function's CHIMERA_SECRET_IDS names, in order (e.g. ["app", "origin"])."""
    kinds = data_exports(templates)
    value = function_environment(templates["api"], description_prefix).get("CHIMERA_SECRET_IDS", "")
    return [kinds[part["Fn::ImportValue"]] for part in _parts(value) if isinstance(part, dict)]


def resolve_environment(
    environment: Mapping[str, Any], exports: Mapping[str, str], values: Mapping[str, str]
) -> dict[str, str]:
    """The environment as plain strings: each imported export becomes ``values[kind]``.

    ``exports`` is ``data_exports(templates)``; ``values`` maps a kind ("app", "providers",
    "origin", "state_table") to what stands for it in the test (a moto secret's ARN, a table name).
    """

    def resolve(value: Any) -> str:
        if isinstance(value, str):
            return value
        if "Fn::ImportValue" in value:
            return values[exports[value["Fn::ImportValue"]]]
        if "Fn::Join" in value:
            separator, parts = value["Fn::Join"]
            return str(separator).join(resolve(part) for part in parts)
        raise AssertionError(f"cannot resolve {value!r} in a function's environment")

    return {name: resolve(value) for name, value in environment.items()}


def _parts(value: Any) -> list[Any]:
    if isinstance(value, dict) and "Fn::Join" in value:
        return [part for part in value["Fn::Join"][1] if part != ","]
    return [value] if value else []
