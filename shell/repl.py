"""The interactive prompt: prompt-toolkit wiring only (the work happens in the Engine).

Split by concern as ptpython does: completion (completion.py), highlighting (highlight.py),
the prompt text and toolbar (here), key bindings (here); each reads the session at redraw
time so they follow mode switches without being rebuilt.
"""

from __future__ import annotations

import os
from pathlib import Path

from prompt_toolkit import PromptSession
from prompt_toolkit.auto_suggest import AutoSuggestFromHistory
from prompt_toolkit.filters import Condition
from prompt_toolkit.formatted_text import StyleAndTextTuples
from prompt_toolkit.history import History
from prompt_toolkit.key_binding import KeyBindings, KeyPressEvent

from opsh.shell.completion import ShellCompleter, complete_on_tab
from opsh.shell.dispatch import Engine
from opsh.shell.highlight import STYLE, ModeLexer
from opsh.shell.hints import ModeHint
from opsh.shell.session import Session


def prompt_message(session: Session) -> StyleAndTextTuples:
    """`opsh:~/src> ` locally, `[prod] mysql:shop> ` in a mode (tag in red)."""
    handle = session.current_handle
    if handle is None:
        return [("class:prompt", f"opsh:{_short_path(session.cwd)}> ")]
    parts: StyleAndTextTuples = []
    if handle.tag:
        parts.append(("class:prompt.tag", f"[{handle.tag}] "))
    if handle.readonly:
        parts.append(("class:prompt.tag", "(ro) "))
    parts.append(("class:prompt.mode", handle.prompt_label()))
    parts.append(("class:prompt", "> "))
    return parts


def _short_path(path: Path) -> str:
    home = os.path.expanduser("~")
    text = str(path)
    if text == home or text.startswith(home + os.sep):
        text = "~" + text[len(home) :]
    return text


def toolbar(session: Session) -> StyleAndTextTuples:
    """Current target, the last command's outcome and duration, and the mode's own state."""
    handle = session.current_handle
    target = "local" if handle is None else f"{handle.kind} {handle.name} ({handle.endpoint})"
    parts: StyleAndTextTuples = [("", f" {target} ")]
    last = session.last
    if last.line:
        style = "class:toolbar.ok" if last.ok else "class:toolbar.fail"
        word = "ok" if last.ok else f"failed ({last.exit_code})"
        parts += [("", "| last: "), (style, word), ("", f" {last.seconds:.2f}s ")]
    if handle is not None and handle.toolbar():
        parts.append(("", f"| {handle.toolbar()} "))
    if session.handles:
        parts.append(("", f"| {len(session.handles)} open "))
    return parts


def key_bindings(engine: Engine) -> KeyBindings:
    bindings = KeyBindings()

    @bindings.add("enter", filter=Condition(lambda: True))
    def _enter(event: KeyPressEvent) -> None:
        """Run the input when the mode says it is complete; otherwise start a new line."""
        buffer = event.current_buffer
        state = buffer.complete_state
        if state is not None and state.current_completion is not None:
            buffer.apply_completion(state.current_completion)
            return
        if engine.input_complete(buffer.text):
            buffer.validate_and_handle()
        else:
            buffer.insert_text("\n")

    @bindings.add("tab")
    def _tab(event: KeyPressEvent) -> None:
        """A unique completion completes on the first Tab (see complete_on_tab)."""
        complete_on_tab(event.current_buffer, engine.session)

    @bindings.add("escape", "enter")
    def _force(event: KeyPressEvent) -> None:
        """Alt-Enter runs the input as it is."""
        event.current_buffer.validate_and_handle()

    return bindings


def build_prompt(engine: Engine, history: History | None = None) -> PromptSession[str]:
    session = engine.session
    return PromptSession(
        message=lambda: prompt_message(session),
        completer=ShellCompleter(session),
        complete_in_thread=True,
        complete_while_typing=True,
        lexer=ModeLexer(session),
        style=STYLE,
        include_default_pygments_style=False,
        history=history,
        auto_suggest=AutoSuggestFromHistory(),
        input_processors=[ModeHint(session)],
        bottom_toolbar=lambda: toolbar(session),
        multiline=True,
        key_bindings=key_bindings(engine),
        prompt_continuation=lambda width, line, soft: "." * max(width - 2, 0) + "> ",
        enable_suspend=True,
    )


def _load_commands_after_first_draw(prompt: PromptSession[str], session: Session) -> None:
    """The prompt shows before the command modules are imported; they load right after."""
    started: list[bool] = []

    def once(_app: object) -> None:
        if not started:
            started.append(True)
            session.background.start("opsh-registry", session.registry.load)

    prompt.app.after_render += once


def run_repl(engine: Engine, history: History | None = None) -> int:
    """Read, run, repeat until `exit` or Ctrl-D; Ctrl-C at the prompt clears the line.

    `history` feeds up-arrow and Ctrl-R (the entry passes one over the persistent store)."""
    session = engine.session
    prompt = build_prompt(engine, history)
    _load_commands_after_first_draw(prompt, session)
    while session.exit_code is None:
        try:
            text = prompt.prompt()
        except KeyboardInterrupt:
            continue
        except EOFError:
            break
        if not text.strip():
            continue
        mode = session.current or "local"
        failures = engine.failures
        engine.feed(text + "\n")
        engine.finish()
        if session.history is not None:
            exit_code = 0 if engine.failures == failures else session.last.exit_code or 1
            session.history.append(text, mode, exit_code)
    return session.exit_code or 0
