"""The OpenAPI document tells the truth: schemathesis (every check) against the running app.

It generates valid and invalid requests for every documented operation, follows the links
between them (create, read, rename, delete), tries undeclared methods, drops the token, and
checks each answer's status, content type, headers and body against the document.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from chimera.dev.local_identity import issue_token

from tests.conftest import JWT_SECRET

HERE = Path(__file__).resolve().parent
A_PERSON = "00000000-0000-4000-8000-0000000005c4"  # a person of its own: its chats stay apart


def test_schemathesis_finds_nothing_the_document_does_not_say(live_server: str, tmp_path: Path) -> None:
    schemathesis = Path(sys.executable).parent / "schemathesis"
    token = issue_token(JWT_SECRET, A_PERSON)
    result = subprocess.run(
        [
            str(schemathesis), "--config-file", str(HERE / "schemathesis.toml"), "--no-color",
            "run", f"{live_server}/api/openapi.json",
            "--checks", "all",
            "--header", f"Authorization: Bearer {token}",
            "--max-examples", "25",
            "--seed", "20261125",  # the same cases every run: a failure here is reproducible
            "--generation-database", "none",
            "--request-timeout", "30",
            "--workers", "1",
            "--report", "junit", "--report-dir", str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
    )  # fmt: skip

    assert result.returncode == 0, result.stdout[-6000:] + result.stderr[-2000:]
    assert "API Operations:" in result.stdout and "Tested: " in result.stdout
