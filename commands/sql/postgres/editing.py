"""`\\e`: a statement edited in the user's editor (commands/shared/editor.py: $VISUAL, else
$EDITOR, else vi), in a private temporary file that is removed afterwards, or FILE itself,
edited in place, as psql does."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from opsh.commands.shared.editor import edit_copy, run_editor
from opsh.shell.errors import UsageError

if TYPE_CHECKING:
    from opsh.shell.session import Session

UNCHANGED = "nothing run"


def edit_text(session: Session, text: str, path: Path | None = None) -> str:
    """`text` (or the file at `path`) after the editor; the file's new text."""
    if path is not None:
        if not path.exists():
            path.write_text(text)
        run_editor(session, path, UNCHANGED)
        return path.read_text()
    edited = edit_copy(session, text.encode(), "statement.sql", UNCHANGED)
    try:
        return edited.decode()
    except UnicodeDecodeError:
        raise UsageError("the edited statement is not UTF-8 text: nothing run", "save it as UTF-8") from None
