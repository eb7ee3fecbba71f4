"""The mysql client's option files: what a `mysql://` URL leaves out comes from them.

`~/.my.cnf` is read as the mysql client reads it (or only the file `?defaults_file=PATH`
names, as `--defaults-file`); the `[client]` group, then `[mysql]` (which wins), give user,
password, host, port, socket, database, TLS files, charset, connect timeout and local_infile.
`!include FILE` and `!includedir DIR` are followed. The password read here stays in memory:
it is never part of the handle's URL, so history, recordings and `status` never see it, and a
file that cannot be parsed is reported by line number only, never by its content.
"""

from __future__ import annotations

import configparser
import os
from pathlib import Path

from opsh.shell.errors import NotFound, UsageError
from opsh.shell.fileread import read_text

GROUPS = ("client", "mysql")
DEFAULT_FILE = "~/.my.cnf"
MAX_INCLUDES = 10


def read_login(explicit: Path | None) -> dict[str, str | None]:
    """Option names (dashes, lower case) -> values from the [client] and [mysql] groups;
    a value of None is a bare `password` (ask for it). Nothing when the file is missing,
    unless it was named explicitly."""
    path = explicit if explicit is not None else Path(os.path.expanduser(DEFAULT_FILE))
    if explicit is None and not path.is_file():
        return {}
    if not path.exists():
        raise NotFound(f"defaults_file: no such file: {path}")
    values: dict[str, str | None] = {}
    for parser in _parsers(path, 0):
        for group in GROUPS:
            if parser.has_section(group):
                values.update({key: _value(parser, group, key) for key in parser.options(group)})
    return values


def _parsers(path: Path, depth: int) -> list[configparser.RawConfigParser]:
    """This file's parser, then those of the files it includes (later ones win)."""
    from pymysql.optionfile import Parser

    if depth > MAX_INCLUDES:
        raise UsageError(f"{path}: !include nested deeper than {MAX_INCLUDES}")
    try:
        text = read_text(path, str(path), "option file")  # regular files only, bounded
    except OSError:
        raise UsageError(f"cannot read the option file {path}") from None
    lines, included = [], []
    for line in text.splitlines():
        stripped = line.strip()
        if stripped.startswith("!include "):
            included.append(_resolve(path, stripped.split(None, 1)[1]))
            lines.append("")  # keeps the line numbers of what follows
        elif stripped.startswith("!includedir "):
            folder = _resolve(path, stripped.split(None, 1)[1])
            included += sorted(folder.glob("*.cnf")) if folder.is_dir() else []
            lines.append("")
        else:
            lines.append(line)
    parser = Parser(strict=False)
    try:
        parser.read_string("\n".join(lines), source=str(path))
    except configparser.Error as exc:
        number = getattr(exc, "lineno", None) or _first_error_line(exc)
        where = f" at line {number}" if number else ""
        raise UsageError(
            f"the option file {path} cannot be read{where}", "lines are `[group]` or `key = value`"
        ) from None
    out: list[configparser.RawConfigParser] = [parser]
    for child in included:
        if child.is_file():
            out += _parsers(child, depth + 1)
    return out


def _value(parser: configparser.RawConfigParser, group: str, key: str) -> str | None:
    """The value with its quotes taken off (pymysql's parser), None for a bare key."""
    if configparser.RawConfigParser.get(parser, group, key) is None:
        return None
    value: str = parser.get(group, key)
    return value


def _resolve(base: Path, name: str) -> Path:
    target = Path(os.path.expanduser(name.strip()))
    return target if target.is_absolute() else base.parent / target


def _first_error_line(exc: configparser.Error) -> int | None:
    errors = getattr(exc, "errors", None)
    return errors[0][0] if errors else None


def flag(value: str | None) -> bool:
    """An option file's boolean: a bare key, 1, true, on, yes."""
    return value is None or value.strip().lower() in ("", "1", "true", "on", "yes")
