"""`\\e`: a statement edited in the user's editor ($VISUAL, else $EDITOR, else vi), in a private
temporary file that is removed afterwards (or FILE itself, edited in place, as psql does)."""

from __future__ import annotations

import os
import shlex
import shutil
import signal
import subprocess
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from opsh.shell.errors import Cancelled, NotFound, UsageError

if TYPE_CHECKING:
    from opsh.shell.session import Session


def edit_text(session: Session, text: str, path: Path | None = None) -> str:
    """`text` (or the file at `path`) after the editor; the file's new text."""
    if path is not None:
        if not path.exists():
            path.write_text(text)
        _run_editor(session, path)
        return path.read_text()
    folder = tempfile.mkdtemp(prefix="opsh-edit-")
    try:
        copy = Path(folder) / "statement.sql"
        descriptor = os.open(copy, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as out:
            out.write(text)
        _run_editor(session, copy)
        return copy.read_text()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _run_editor(session: Session, path: Path) -> None:
    """The editor owns the terminal and Ctrl-C while it runs."""
    words = shlex.split(os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi")
    if not words:
        raise UsageError("$VISUAL / $EDITOR is blank", "set EDITOR=vi, or unset it")
    try:
        proc = subprocess.Popen([*words, str(path)], cwd=session.cwd)
    except FileNotFoundError:
        raise NotFound(f"editor not found: {words[0]}", "set VISUAL or EDITOR") from None
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        code = proc.wait()
    finally:
        signal.signal(signal.SIGINT, previous)
    if code != 0:
        raise Cancelled(f"the editor exited with status {code}: nothing run")
