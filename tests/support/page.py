"""The built page (frontend/dist), as `make install` builds it; built here when missing or older
than its sources, so a suite run on its own (`pytest tests/e2e`, `pytest tests/infra`) tests what
the sources say."""

from __future__ import annotations

import subprocess
from pathlib import Path

PAGE = Path(__file__).resolve().parents[2] / "frontend"


def built_page() -> Path:
    built = PAGE / "dist" / "index.html"
    sources = [PAGE / "index.html", PAGE / "build.mjs", PAGE / "package-lock.json", *(PAGE / "src").rglob("*")]
    if not built.exists() or max(f.stat().st_mtime for f in sources) > built.stat().st_mtime:
        if not (PAGE / "node_modules" / ".package-lock.json").exists():
            subprocess.run(["npm", "ci", "--prefix", str(PAGE)], check=True, capture_output=True)
        subprocess.run(["npm", "run", "--silent", "build", "--prefix", str(PAGE)], check=True, capture_output=True)
    return built.parent
