"""The inline hint: grey text after the cursor with what the current mode says is still to
type (in Redis mode the command's remaining arguments, as redis-cli shows them).

It is drawn by a prompt-toolkit input processor, so it is never part of the buffer: Enter,
Tab and the arrow keys see only what was typed.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from prompt_toolkit.layout.processors import Processor, Transformation, TransformationInput

from opsh.shell.errors import swallowed

if TYPE_CHECKING:
    from opsh.shell.session import Session

HINT_STYLE = "class:hint fg:ansibrightblack"


class ModeHint(Processor):
    def __init__(self, session: Session) -> None:
        self.session = session

    def apply_transformation(self, transformation_input: TransformationInput) -> Transformation:
        fragments = transformation_input.fragments
        document = transformation_input.document
        handle = self.session.current_handle
        if handle is None or not document.is_cursor_at_the_end:
            return Transformation(fragments)
        if transformation_input.lineno != document.line_count - 1:
            return Transformation(fragments)
        try:
            hint = handle.hint(document.text_before_cursor)
        except Exception:  # noqa: BLE001 - a hint must never break typing
            swallowed("computing the inline hint")
            hint = ""
        if not hint:
            return Transformation(fragments)
        return Transformation([*fragments, (HINT_STYLE, hint)])
