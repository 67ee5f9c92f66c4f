"""Build the dependency layer for the Lambda runtime without Docker.

The lock file pins every version (`uv export`); `uv pip install` then fetches the manylinux
wheels for the Lambda architecture and Python version (`--python-platform`, `--only-binary`),
never compiling anything here.
The result is `layers/build/python/...`, the layout Lambda puts on the path at /opt/python.

    uv run python -m layers.build_layer            # arm64, the architecture the CDK app deploys
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUILD = ROOT / "layers" / "build"
# Lambda's Python 3.12+ runtimes run on Amazon Linux 2023 (glibc 2.34): manylinux_2_28 wheels fit.
PLATFORMS = {"arm64": "aarch64-manylinux_2_28", "x86_64": "x86_64-manylinux_2_28"}
PYTHON_VERSION = "3.13"  # matches infra.constants.PYTHON_RUNTIME (python3.13)
# Provided by the Lambda Python runtime itself, or only needed on a laptop.
LEAVE_OUT = ("boto3", "botocore", "s3transfer", "jmespath")
PRUNE_DIRS = ("__pycache__", "tests", "test")


def requirements(path: Path) -> None:
    subprocess.run(
        ["uv", "export", "--frozen", "--no-dev", "--no-emit-project", "--no-hashes", "--output-file", str(path)],
        cwd=ROOT,
        check=True,
        stdout=subprocess.DEVNULL,
    )
    kept = [line for line in path.read_text().splitlines() if not line.startswith(LEAVE_OUT)]
    path.write_text("\n".join(kept) + "\n")


def size_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1e6


def build(architecture: str) -> Path:
    target = BUILD / "python"
    shutil.rmtree(BUILD, ignore_errors=True)
    with tempfile.TemporaryDirectory() as scratch:
        reqs = Path(scratch) / "requirements.txt"
        requirements(reqs)
        # `uv pip` is pip's interface with uv's resolver: --python-platform is pip's --platform.
        subprocess.run(
            [
                "uv", "pip", "install", "--quiet", "--no-deps", "--requirement", str(reqs),
                "--target", str(target), "--python-platform", PLATFORMS[architecture],
                "--python-version", PYTHON_VERSION, "--only-binary", ":all:",
            ],
            check=True,
        )  # fmt: skip
    for pattern in PRUNE_DIRS:
        for directory in list(target.rglob(pattern)):
            if directory.is_dir():
                shutil.rmtree(directory, ignore_errors=True)
    return target


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--architecture", choices=sorted(PLATFORMS), default="arm64")
    args = parser.parse_args()
    target = build(args.architecture)
    print(f"layer built in {target.parent}: {size_mb(target):.1f} MB unzipped (Lambda allows 250 MB)")  # noqa: T201


if __name__ == "__main__":
    main()
