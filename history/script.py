"""Running a script file: each line goes through the same Engine as a typed line."""

from __future__ import annotations

from pathlib import Path

from shell.dispatch import Engine
from shell.errors import NotFound


def run_file(engine: Engine, path: Path, keep_going: bool = False) -> bool:
    """Feed `path` line by line; stop at the first failure unless `keep_going`."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except FileNotFoundError:
        raise NotFound(f"no such script: {path}") from None
    ok = True
    for number, line in enumerate(lines, 1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        engine.location = f"{path.name}:{number}"
        try:
            line_ok = engine.feed(line + "\n")
        finally:
            engine.location = None
        ok = ok and line_ok
        if (not line_ok and not keep_going) or engine.session.exit_code is not None:
            return ok
    return engine.finish() and ok
