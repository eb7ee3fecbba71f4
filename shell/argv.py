"""Parsing a command's tokens against its spec.

argparse prints and exits on errors, which a shell cannot afford; this parser raises a
UsageError naming the problem and the usage line instead. Two options exist on every command
and are taken out here: `--format F` (render this result as F) and `--yes` (confirm dangerous
actions for this line).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any, NoReturn

from opsh.shell import formats, kinds
from opsh.shell.errors import UsageError
from opsh.shell.lineparse import Token
from opsh.shell.spec import Args, Command, Kind, Param

FORMATS = formats.names()  # what `--format` takes (the registry's names: shell/formats/)
_NEGATIVE_NUMBER = re.compile(r"^-\d+(\.\d+)?$")


@dataclass
class Parsed:
    """A command resolved to its (sub)command class, with its arguments and the generic options."""

    command: type[Command]
    args: Args
    format: str | None = None
    yes: bool = False
    path: list[str] = field(default_factory=list)


class _State:
    def __init__(self, command: type[Command], prefix: str) -> None:
        self.command = command
        self.usage = command.usage_line(prefix)
        self.values: dict[str, Any] = {}
        self.positionals = [p for p in command.params if not p.is_option]
        self.options = {flag: p for p in command.params if p.is_option for flag in p.flags}
        self.next_positional = 0
        self.rest_mode = False
        self.rest_quoted = False  # a quoted word is part of the REST parameter
        self.rest_closed = False  # options followed a statement: no word may come after them
        self.format: str | None = None
        self.yes = False


def parse(command: type[Command], tokens: list[Token]) -> Parsed:
    """Resolve subcommands, then bind `tokens` to parameters with typed values."""
    path = [command.name]
    while command.subcommands and tokens and not tokens[0].quoted:
        sub = command.subcommand(tokens[0].text)
        if sub is None:
            break
        command, tokens = sub, tokens[1:]
        path.append(sub.name)
    if command.subcommands and not _has_own_run(command):
        names = ", ".join(s.name for s in command.subcommands)
        given = f" {tokens[0].text!r}" if tokens else ""
        raise UsageError(f"{' '.join(path)}: unknown or missing subcommand{given}", f"one of: {names}")
    state = _State(command, " ".join(path[:-1]) + " " if len(path) > 1 else "")
    _bind(state, tokens)
    args = _finish(state, " ".join(path))
    return Parsed(command, args, state.format, state.yes, path)


def _has_own_run(command: type[Command]) -> bool:
    """A parent with subcommands may also run on its own (`hosts` lists, `hosts add` adds)."""
    return command.run is not Command.run or bool(command.implementation)


def _bind(state: _State, tokens: list[Token]) -> None:
    index = 0
    after_dashes = False
    while index < len(tokens):
        tok = tokens[index]
        text = tok.text
        index += 1
        if state.rest_mode and not after_dashes and _ends_statement(state, tok):
            state.rest_mode, state.rest_closed = False, True
        if state.rest_mode or after_dashes or tok.quoted or not text.startswith("-") or text == "-":
            _positional(state, text)
            state.rest_quoted = state.rest_quoted or (state.rest_mode and tok.quoted)
        elif text == "--":
            after_dashes = True
        elif text.startswith("--"):
            index = _long_option(state, text, tokens, index)
        elif text in state.options or _all_short_flags(state, text):
            index = _short_option(state, text, tokens, index)
        elif state.command.dash_args or _NEGATIVE_NUMBER.match(text):
            _positional(state, text)
        else:
            _unknown_option(state, text)


def _ends_statement(state: _State, tok: Token) -> bool:
    """Where a statement given to `sql`, `redis` or `mongo` ends: at one of the command's long
    options (`--format json` is never SQL, and SQLite would take it for a comment), or at any
    of its options once a quoted word was given (`"SELECT ..." -x shop3`)."""
    if tok.quoted or not state.command.statement_rest or not tok.text.startswith("-"):
        return False
    flag = tok.text.partition("=")[0]
    if flag.startswith("--"):
        return flag in state.options or flag in ("--format", "--yes")
    return state.rest_quoted and (tok.text in state.options or _all_short_flags(state, tok.text))


def _long_option(state: _State, text: str, tokens: list[Token], index: int) -> int:
    flag, eq, value = text.partition("=")
    param = state.options.get(flag)
    if param is None:
        if flag == "--format" and "--format" not in state.options:
            fmt, index = _value_for(flag, value if eq else None, tokens, index)
            if fmt not in FORMATS:
                raise UsageError(f"--format: {fmt!r} is not one of {', '.join(FORMATS)}")
            state.format = fmt
            return index
        if flag == "--yes" and not eq:
            state.yes = True
            return index
        if state.command.dash_args:
            _positional(state, text)
            return index
        _unknown_option(state, flag)
    if not param.takes_value:
        state.values[param.name] = kinds.parse_bool(value) if eq else True
        return index
    raw, index = _value_for(flag, value if eq else None, tokens, index)
    _store(state, param, raw)
    return index


def _short_option(state: _State, text: str, tokens: list[Token], index: int) -> int:
    param = state.options.get(text[:2])
    if text in state.options or (param is not None and param.takes_value):
        param = state.options[text[:2]] if text not in state.options else state.options[text]
        if not param.takes_value:
            state.values[param.name] = True
            return index
        attached = text[2:] if text not in state.options else None
        raw, index = _value_for(text[:2], attached or None, tokens, index)
        _store(state, param, raw)
        return index
    for letter in text[1:]:
        state.values[state.options[f"-{letter}"].name] = True
    return index


def _all_short_flags(state: _State, text: str) -> bool:
    """`-la` is `-l -a` when every letter is a flag; `-n5` is `-n 5` when -n takes a value."""
    if len(text) < 2 or text.startswith("--"):
        return False
    first = state.options.get(text[:2])
    if first is not None and first.takes_value:
        return True
    return all(f"-{c}" in state.options and not state.options[f"-{c}"].takes_value for c in text[1:])


def _value_for(flag: str, value: str | None, tokens: list[Token], index: int) -> tuple[str, int]:
    if value is not None:
        return value, index
    if index >= len(tokens):
        raise UsageError(f"{flag} needs a value")
    return tokens[index].text, index + 1


def _store(state: _State, param: Param, raw: str) -> None:
    value = kinds.convert(param, raw)
    if param.multiple:
        state.values.setdefault(param.name, []).append(value)
    else:
        state.values[param.name] = value


def _positional(state: _State, text: str) -> None:
    if state.rest_closed:
        raise UsageError(
            f"{state.command.name}: {text!r} after the statement's options",
            f"the statement is one part of the line: {state.usage}",
        )
    if state.next_positional >= len(state.positionals):
        raise UsageError(
            f"{state.command.name}: unexpected argument {text!r}",
            f"usage: {state.usage}",
        )
    param = state.positionals[state.next_positional]
    if param.kind is Kind.REST:
        state.rest_mode = True
        state.values.setdefault(param.name, []).append(text)
        return
    _store(state, param, text)
    if not param.multiple:
        state.next_positional += 1


def _unknown_option(state: _State, flag: str) -> NoReturn:
    known = [f for f in state.options if f.startswith("--")] + ["--format", "--yes"]
    import difflib

    close = difflib.get_close_matches(flag, known, n=1)
    hint = f"did you mean {close[0]}?" if close else f"usage: {state.usage}"
    raise UsageError(f"{state.command.name}: unknown option {flag}", hint)


def _finish(state: _State, display: str) -> Args:
    args = Args()
    for param in state.command.params:
        if param.name in state.values:
            args[param.name] = state.values[param.name]
        elif not param.is_option and param.required:
            raise UsageError(f"{display}: missing {param.label()}", f"usage: {state.usage}")
        elif param.multiple or param.kind is Kind.REST:
            args[param.name] = list(param.default or [])
        else:
            args[param.name] = param.default
    return args
