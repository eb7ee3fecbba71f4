"""The interactive prompt: prompt-toolkit wiring only (the work happens in the Engine).

Split by concern as ptpython does: completion (completion.py), highlighting (highlight.py),
the prompt text and toolbar (here), key bindings (here); each reads the session at redraw
time so they follow mode switches without being rebuilt.
"""

from __future__ import annotations

import os
from pathlib import Path

from prompt_toolkit import PromptSession
from prompt_toolkit.application.current import get_app_or_none
from prompt_toolkit.auto_suggest import AutoSuggestFromHistory
from prompt_toolkit.enums import EditingMode
from prompt_toolkit.filters import is_searching
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


def toolbar(session: Session, width: int | None = None) -> StyleAndTextTuples:
    """Current target, the last command's outcome and duration, and the mode's own state, in
    one line of the terminal's width: the endpoint goes first, then the count of open handles,
    then the mode's state is cut short."""
    width = width or _columns()
    handle = session.current_handle
    target = "local" if handle is None else f"{handle.kind} {handle.name}"
    endpoint = "" if handle is None else f" ({handle.endpoint})"
    last = session.last
    outcome: StyleAndTextTuples = []
    if last.line:
        style = "class:toolbar.ok" if last.ok else "class:toolbar.fail"
        word = "ok" if last.ok else f"failed ({last.exit_code})"
        outcome = [("", "| last: "), (style, word), ("", f" {last.seconds:.2f}s ")]
    state = f"| {handle.toolbar()} " if handle is not None and handle.toolbar() else ""
    count = f"| {len(session.handles)} open " if session.handles else ""
    fixed = len(f" {target} ") + sum(len(fragment[1]) for fragment in outcome)
    if fixed + len(endpoint) + len(state) + len(count) > width:
        endpoint = ""
    if fixed + len(state) + len(count) > width:
        count = ""
    room = width - fixed - len(count)
    if len(state) > room:
        state = state[: max(room - 2, 0)] + "… " if room > 4 else ""
    parts: StyleAndTextTuples = [("", f" {target}{endpoint} "), *outcome]
    parts += [("", text) for text in (state, count) if text]
    return parts


def _columns() -> int:
    app = get_app_or_none()
    try:
        return app.output.get_size().columns if app is not None else 80
    except Exception:  # noqa: BLE001 - a toolbar must draw whatever the output says
        return 80


def key_bindings(engine: Engine) -> KeyBindings:
    bindings = KeyBindings()

    # Not while searching history (Ctrl-R): there Enter ends the search and keeps the found
    # line, prompt-toolkit's own binding, as in a bare PromptSession.
    @bindings.add("enter", filter=~is_searching)
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
    last = _last_line(session)
    while session.exit_code is None:
        prompt.app.editing_mode = EditingMode.VI if session.settings.get("editing_mode") == "vi" else EditingMode.EMACS
        try:
            text = prompt.prompt()
        except KeyboardInterrupt:
            continue
        except EOFError:
            break
        if not text.strip():
            continue
        line = repeat_last(text, last, engine)
        if line is None:
            continue
        text = last = line
        mode = session.current or "local"
        failures = engine.failures
        engine.feed(text + "\n")
        engine.finish()
        if session.history is not None:
            exit_code = 0 if engine.failures == failures else session.last.exit_code or 1
            _remember(engine, text, mode, exit_code)
    return session.exit_code or 0


def repeat_last(text: str, last: str | None, engine: Engine) -> str | None:
    """`!!` (alone, or followed by more, as in `!! > out.txt`) is the previous line again, shown
    before it runs as a shell shows it; None when there is no previous line."""
    stripped = text.strip()
    if stripped != "!!" and not stripped.startswith("!! "):
        return text
    if last is None:
        engine.warn("!!: no previous line")
        return None
    expanded = last + stripped[2:]
    engine.out.write(expanded + "\n")
    engine.out.flush()
    return expanded


def _last_line(session: Session) -> str | None:
    """The last line typed, for `!!`: from the persistent history when this session has none."""
    if session.history is None:
        return None
    try:
        entries = session.history.entries()
    except OSError:
        return None
    return entries[-1].line if entries else None


def _remember(engine: Engine, text: str, mode: str, exit_code: int) -> None:
    """History is best-effort: a full disk costs one warning, never the session."""
    assert engine.session.history is not None
    try:
        engine.session.history.append(text, mode, exit_code)
    except OSError as exc:
        engine.warn(f"history is not being saved: {exc.strerror or exc}", once="history")
