"""cfn-lint over the session's synthesized templates: no errors, and no warning we have not read.

Errors fail. Warnings fail too unless their rule is listed here with the reason we accept it, so a
new warning is read by someone before it is ignored. Informational matches are not checked.
"""

from __future__ import annotations

import pytest
from cfnlint.api import ManualArgs, lint_file

from tests.support.templates import Synth

# Regions the templates are checked against (resource types and properties differ by region).
REGIONS = ["us-east-1", "eu-west-1", "ap-northeast-1"]
ACCEPTED_WARNINGS = {
    # CDK adds an explicit DependsOn from each function to its role and default policy, so the
    # policy exists before the function is created; the GetAtt alone would not wait for the policy.
    "W3005": "CDK's DependsOn on a function's role, beside the Role GetAtt",
    # The access-log bucket takes S3 server access logs and CloudFront standard logs; CDK grants the
    # S3 log delivery group through the LogDeliveryWrite canned ACL (CloudFront's legacy logging
    # needs ACLs on that bucket anyway).
    "W3045": "LogDeliveryWrite ACL on the access-log bucket",
}


@pytest.mark.parametrize("stack", ["data", "api", "web"])
def test_cfn_lint_finds_nothing_we_have_not_accepted(synthesized: Synth, stack: str) -> None:
    matches = lint_file(synthesized.template_paths[stack], ManualArgs(regions=REGIONS))
    found = [
        f"{m.rule.id} {m.message} (line {m.linenumber})"
        for m in matches
        if m.rule.id.startswith("E") or (m.rule.id.startswith("W") and m.rule.id not in ACCEPTED_WARNINGS)
    ]
    assert not found, "\n".join(found)
