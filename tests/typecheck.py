"""`python -m tests.typecheck`: mypy --strict over the opsh namespace (run by tests/run).

The sources live in shell/, commands/ and history/ but are imported as opsh.shell, opsh.commands
and opsh.history (a setuptools package-dir mapping). mypy cannot follow the editable install's
import hook, so it checks a tree of symlinks that has the installed shape, kept in .venv.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LINKS = ("shell", "commands", "history", "__main__.py")


def link_tree() -> Path:
    top = ROOT / ".venv" / "mypy-src"
    package = top / "opsh"
    package.mkdir(parents=True, exist_ok=True)
    for name in LINKS:
        link = package / name
        if not link.is_symlink():
            link.unlink(missing_ok=True)
            link.symlink_to(ROOT / name)
    return top


def main() -> int:
    top = link_tree()
    env = dict(os.environ, MYPYPATH=str(top))
    argv = [sys.executable, "-m", "mypy", "--config-file", str(ROOT / "pyproject.toml"), "--cache-dir", str(ROOT / ".venv" / "mypy-cache"), "-p", "opsh"]
    return subprocess.run(argv, cwd=top, env=env).returncode


if __name__ == "__main__":
    raise SystemExit(main())
