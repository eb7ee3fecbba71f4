"""The user's editor on a file: `edit` (a local or remote file) and PostgreSQL's `\\e` (a
statement) both hand text to $VISUAL / $EDITOR this one way, so the choice of editor, the
private temporary copy and who owns Ctrl-C while it runs are the same everywhere."""

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


def editor_command() -> list[str]:
    """$VISUAL, else $EDITOR, else vi; either may carry arguments (`code -w`)."""
    chosen = os.environ.get("VISUAL") or os.environ.get("EDITOR") or "vi"
    words = shlex.split(chosen)
    if not words:
        raise UsageError("$VISUAL / $EDITOR is blank", "set EDITOR=vi, or unset it")
    return words


def edit_copy(session: Session, content: bytes, name: str, unchanged: str = "nothing written") -> bytes:
    """`content` edited by the user in a private copy (0600 in a 0700 directory); nothing of
    it is left behind, whatever happens."""
    folder = tempfile.mkdtemp(prefix="opsh-edit-")
    try:
        copy = Path(folder) / name
        descriptor = os.open(copy, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as out:
            out.write(content)
        run_editor(session, copy, unchanged)
        return copy.read_bytes()
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def run_editor(session: Session, path: Path, unchanged: str = "nothing written") -> None:
    """The editor on the terminal; Ctrl-C belongs to it while it runs (opsh ignores SIGINT
    after the editor started, so the editor does not inherit the ignoring). An editor that
    fails or is killed cancels the command: `unchanged` says what that leaves."""
    command = [*editor_command(), str(path)]
    try:
        proc = subprocess.Popen(command, cwd=session.cwd)
    except FileNotFoundError:
        raise NotFound(f"editor not found: {command[0]}", "set VISUAL or EDITOR") from None
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        code = proc.wait()
    finally:
        signal.signal(signal.SIGINT, previous)
    if code < 0:
        raise Cancelled(f"the editor was stopped by signal {-code}: {unchanged}")
    if code != 0:
        raise Cancelled(f"the editor exited with status {code}: {unchanged}")
