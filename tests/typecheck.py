"""`python -m tests.typecheck`: mypy --strict over the opsh package (run by tests/run).

The checkout has the installed shape (opsh/ links to shell/, commands/ and history/), so mypy
reads it from the repository root as it is; pyproject.toml names the package and the options.
The cache lives in .venv, beside the install it was made for.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    options = ["--config-file", str(ROOT / "pyproject.toml"), "--cache-dir", str(ROOT / ".venv" / "mypy-cache")]
    return subprocess.run([sys.executable, "-m", "mypy", *options], cwd=ROOT).returncode


if __name__ == "__main__":
    raise SystemExit(main())
