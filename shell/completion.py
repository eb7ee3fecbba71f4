"""Tab completion: command names, subcommands, options and each parameter kind's candidates.

The local completer reads the same spec the parser uses, so a new parameter is completable
the moment it is declared. In a backend mode the handle's own completer answers (SQL schema,
Redis keys), except on `\\` lines, which are shell commands again.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING

from prompt_toolkit.completion import CompleteEvent, Completer, Completion
from prompt_toolkit.document import Document

from opsh.shell import formats, kinds
from opsh.shell.lineparse import Token, tokenize
from opsh.shell.spec import Args, Command, Kind, Param
from opsh.shell.statement import local_statement, statement_at_end

if TYPE_CHECKING:
    from prompt_toolkit.buffer import Buffer

    from opsh.shell.handles import Handle
    from opsh.shell.session import Session


class ShellCompleter(Completer):
    """Delegates to the current mode; local commands are completed from their specs."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def get_completions(self, document: Document, complete_event: CompleteEvent) -> Iterator[Completion]:
        text = document.text_before_cursor
        handle = self.session.current_handle
        if handle is not None and mode_line(handle, text):
            completer = handle.completer(self.session)
            if completer is not None:
                yield from completer.get_completions(document, complete_event)
            return
        if handle is not None:
            text = text.lstrip()[1:]
        for word, start, meta in local_candidates(self.session, text):
            yield Completion(word, start_position=start, display_meta=meta)


def complete_on_tab(buffer: Buffer, session: Session) -> None:
    """Tab: a unique completion is taken at once, menu closed, as in bash. The menu shown while
    typing would otherwise make the first Tab only select it, and Enter would then take it
    instead of running the line. Local lines are completed here and now (specs and local
    paths are quick); a mode's completer (a remote listing, a schema) keeps prompt_toolkit's
    Tab, which inserts a unique completion once the candidates are in."""
    state = buffer.complete_state
    if state is not None and state.complete_index is not None:
        buffer.complete_next()  # already going through the menu
        return
    document = buffer.document
    handle = session.current_handle
    if handle is None or not mode_line(handle, document.text_before_cursor):
        asked = CompleteEvent(completion_requested=True)
        found = [c for c in ShellCompleter(session).get_completions(document, asked) if not _does_nothing(document, c)]
        if len(found) == 1:
            buffer.apply_completion(found[0])
            return
    if state is not None:
        buffer.complete_next()
    else:
        buffer.start_completion(insert_common_part=True)


def _does_nothing(document: Document, completion: Completion) -> bool:
    before = document.text_before_cursor
    return before[len(before) + completion.start_position :] == completion.text


def mode_line(handle: Handle, text: str) -> bool:
    """Whether `text` belongs to the handle's mode: a `\\word` line is an opsh command unless
    the mode claims the word as one of its meta commands (SQL's `\\d users`)."""
    stripped = text.lstrip()
    return not stripped.startswith("\\") or stripped.split(None, 1)[0] in handle.meta_commands


def local_candidates(session: Session, text: str) -> list[tuple[str, int, str]]:
    """(candidate, start position relative to the cursor, meta) for the local line `text`."""
    statement = statement_at_end(text, local_statement)
    if statement.startswith("!"):
        return []
    tokens = tokenize(statement, None, partial=True)
    if any(tok.op and tok.text == "|" for tok in tokens):
        return []  # after `|` the rest is a local shell command
    at_new_word = not statement or statement[-1].isspace() or (tokens and tokens[-1].op)
    prefix_raw = "" if at_new_word else statement[tokens[-1].start :]
    prefix = "" if at_new_word else tokens[-1].text
    done = tokens if at_new_word else tokens[:-1]
    found = _candidates(session, done, prefix)
    start = -len(prefix_raw)
    return [(_quote(word), start, meta) for word, meta in found]


def _candidates(session: Session, done: list[Token], prefix: str) -> Iterable[tuple[str, str]]:
    if done and done[-1].op:
        if done[-1].text in (">", ">>"):
            return kinds.path_candidates(session, prefix)
        return []
    if not done:
        return _command_names(session, prefix)
    cmd = session.registry.find(done[0].text.lstrip("\\"))
    if cmd is None:
        return []
    words = [t.text for t in done[1:]]
    while words and (sub := cmd.subcommand(words[0])) is not None:
        cmd, words = sub, words[1:]
    if cmd.subcommands and not words:
        subs = [(s.name, s.summary) for s in cmd.subcommands if s.name.startswith(prefix)]
        if subs or not cmd.params:
            return subs
    return _param_candidates(session, cmd, words, prefix)


def _command_names(session: Session, prefix: str) -> list[tuple[str, str]]:
    registry = session.registry
    return [(name, registry.commands[name].summary) for name in registry.names() if name.startswith(prefix)]


def _param_candidates(session: Session, cmd: type[Command], words: list[str], prefix: str) -> Iterable[tuple[str, str]]:
    options = {flag: p for p in cmd.params if p.is_option for flag in p.flags}
    typed = _typed_args(cmd, words, options)
    if words and words[-1] in options and options[words[-1]].takes_value:
        return _for_param(session, cmd, options[words[-1]], prefix, typed)
    if words and words[-1] == "--format":
        return format_candidates(prefix)
    if prefix.startswith("-") and "--" not in words:
        flags = [(f, p.help) for p in cmd.params if p.is_option for f in p.flags if f.startswith("--")]
        flags += [("--format", "|".join(formats.names())), ("--yes", "confirm dangerous actions")]
        found = [(f, h) for f, h in flags if f.startswith(prefix) and f not in words]
        positional = _positional_at(cmd, words, options) if cmd.dash_args else None
        if positional is not None:  # `kill -US` is a signal, `date -3` an adjustment
            found += list(_for_param(session, cmd, positional, prefix, typed))
        return found
    param = _positional_at(cmd, words, options)
    if param is None:
        return []
    return _for_param(session, cmd, param, prefix, typed)


def format_candidates(prefix: str) -> list[tuple[str, str]]:
    """The registry's formats starting with `prefix`, each with its one-line summary."""
    return [(f.name, f.summary) for f in formats.REGISTRY if f.name.startswith(prefix)]


def _positional_at(cmd: type[Command], words: list[str], options: dict[str, Param]) -> Param | None:
    positionals = [p for p in cmd.params if not p.is_option]
    index = 0
    skip = False
    for word in words:
        if skip:
            skip = False
            continue
        if word.startswith("-") and word in options:
            skip = options[word].takes_value
            continue
        if word == "--format":
            skip = True
            continue
        if word.startswith("-") and word != "-":
            continue
        if index < len(positionals) and not positionals[index].multiple and positionals[index].kind is not Kind.REST:
            index += 1
    return positionals[index] if index < len(positionals) else None


def _typed_args(cmd: type[Command], words: list[str], options: dict[str, Param]) -> Args:
    """The positionals typed before the word being completed, by name (as words, unconverted),
    so a command's complete() can answer from them (`set format ` offers the formats)."""
    positionals = [p for p in cmd.params if not p.is_option]
    typed = Args()
    index = 0
    skip = False
    for word in words:
        if skip or (word.startswith("-") and word != "-"):
            skip = not skip and (word == "--format" or (word in options and options[word].takes_value))
            continue
        if index >= len(positionals):
            break
        param = positionals[index]
        if param.multiple or param.kind is Kind.REST:
            typed.setdefault(param.name, []).append(word)
        else:
            typed[param.name] = word
            index += 1
    return typed


def _for_param(
    session: Session, cmd: type[Command], param: Param, prefix: str, typed: Args | None = None
) -> Iterable[tuple[str, str]]:
    try:
        special = cmd().complete(session, typed if typed is not None else Args(), param, prefix)
    except Exception:  # noqa: BLE001 - a completer failing must never break typing
        special = None
    if special is not None:
        return [(c, "") if isinstance(c, str) else c for c in special]
    try:
        return list(kinds.candidates(session, param, prefix))
    except Exception:  # noqa: BLE001
        return []


def _quote(word: str) -> str:
    return word.replace(" ", "\\ ") if " " in word else word
