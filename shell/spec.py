"""The declarative command spec: one description drives parsing, completion, highlighting and help.

A command is a class with a name, a summary, typed parameters and a `run(session, args)`
method. `@command(...)` turns a plain function into such a class, for the many commands that
need nothing more. Modules in `commands/` list their commands in a module-level `COMMANDS`
tuple; the registry collects them (no global registry is mutated at import time).
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

if TYPE_CHECKING:
    from opsh.shell.handles import Handle
    from opsh.shell.result import Result
    from opsh.shell.session import Session


class Kind(enum.Enum):
    """What a parameter holds; each kind has one converter and one completer in shell/kinds.py."""

    TEXT = "text"
    INT = "int"
    FLOAT = "float"
    BOOL = "bool"  # an option without a value
    PATH = "path"
    DIR = "dir"
    HOST = "host"
    TARGETS = "targets"
    HANDLE = "handle"
    CHOICE = "choice"
    DURATION = "duration"  # seconds: 30, 1.5, 500ms, 5s, 2m, 1h
    SIZE = "size"  # bytes: 512, 10k, 1M, 2G
    URL = "url"
    COMMAND = "command"  # an opsh command name
    NAME = "name"  # a setting or variable name
    SIGNAL = "signal"
    REST = "rest"  # every remaining token, verbatim (after `--` or the last positional)


@dataclass(frozen=True)
class Param:
    """A positional parameter (no flags) or an option (flags like ("-n", "--lines"))."""

    name: str
    kind: Kind = Kind.TEXT
    help: str = ""
    flags: tuple[str, ...] = ()
    required: bool = True
    multiple: bool = False
    choices: tuple[str, ...] = ()
    default: Any = None
    metavar: str = ""

    @property
    def is_option(self) -> bool:
        return bool(self.flags)

    @property
    def takes_value(self) -> bool:
        return self.kind is not Kind.BOOL

    def label(self) -> str:
        """How the parameter appears in a usage line."""
        meta = self.metavar or self.name.upper()
        if self.kind is Kind.CHOICE and self.choices and not self.metavar:
            meta = "|".join(self.choices)
        if self.is_option:
            text = self.flags[0] if not self.takes_value else f"{self.flags[0]} {meta}"
            return f"[{text}]"
        if self.multiple:
            meta += "..."
        return meta if self.required else f"[{meta}]"


def opt(*flags: str, kind: Kind = Kind.BOOL, name: str = "", **kw: Any) -> Param:
    """Shorthand for an option: opt("-n", "--lines", kind=Kind.INT, default=10)."""
    long = [f for f in flags if f.startswith("--")]
    dest = name or (long[0] if long else flags[-1]).lstrip("-").replace("-", "_")
    if kind is Kind.BOOL and "default" not in kw:
        kw["default"] = False
    return Param(dest, kind, flags=tuple(flags), required=False, **kw)


def arg(name: str, kind: Kind = Kind.TEXT, **kw: Any) -> Param:
    """Shorthand for a positional parameter."""
    return Param(name, kind, **kw)


class Args(dict[str, Any]):
    """Parsed arguments by parameter name; attribute access for readability in commands."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


class Command:
    """Base class of every command. Subclasses set the spec attributes and implement run()."""

    name: ClassVar[str] = ""
    aliases: ClassVar[tuple[str, ...]] = ()
    area: ClassVar[str] = "general"
    summary: ClassVar[str] = ""
    usage: ClassVar[str] = ""
    examples: ClassVar[tuple[str, ...]] = ()
    params: ClassVar[tuple[Param, ...]] = ()
    subcommands: ClassVar[tuple[type[Command], ...]] = ()
    # Tokens such as `-9` or `-3h` that are not declared options are taken as positionals.
    dash_args: ClassVar[bool] = False
    # The REST parameter is one statement (`sql`, `redis`, `mongo`): the command's own options
    # may follow it too (shell/argv.py says where it ends), and no word may follow those.
    statement_rest: ClassVar[bool] = False
    # Hidden commands are dispatched but not listed in help or completion.
    hidden: ClassVar[bool] = False
    # The command changes the mode the next lines go to (connect, use): when it fails in a
    # batch run, the run stops even with --keep-going, so no line runs in the wrong mode.
    switches_mode: ClassVar[bool] = False
    # "module:function" doing the work, `function(session, args) -> Result`: imported only when
    # the command runs, so a spec module stays cheap to import (startup loads every spec).
    implementation: ClassVar[str] = ""

    def run(self, session: Session, args: Args) -> Result:
        if not self.implementation:
            raise NotImplementedError(f"{self.name}: no run() and no implementation")
        import importlib

        module, _, function = self.implementation.partition(":")
        work: RunFunc = getattr(importlib.import_module(module), function)
        return work(session, args)

    def complete(self, session: Session, args: Args, param: Param, prefix: str) -> Iterable[str] | None:
        """Command-specific candidates for `param`; None falls back to the kind's completer.
        `args` holds the positionals typed before it, by name, as the words typed."""
        return None

    @classmethod
    def all_names(cls) -> tuple[str, ...]:
        return (cls.name, *cls.aliases)

    @classmethod
    def usage_line(cls, prefix: str = "") -> str:
        if cls.usage:
            return cls.usage
        head = f"{prefix}{cls.name}".strip()
        if cls.subcommands:
            return f"{head} {'|'.join(s.name for s in cls.subcommands)} ..."
        parts = [p.label() for p in cls.params if not p.is_option]
        options = [p.label() for p in cls.params if p.is_option]
        return " ".join([head, *options, *parts])

    @classmethod
    def help_text(cls, prefix: str = "") -> str:
        """The page `help CMD` shows, from the spec alone: queue verbs, which are not in the
        registry, get the same page from `help VERB` in their mode."""
        lines = [f"usage: {cls.usage_line(prefix + ' ' if prefix else '')}", "", cls.summary]
        if cls.aliases:
            lines.append(f"aliases: {', '.join(cls.aliases)}")
        if cls.subcommands:
            width = max(len(s.name) for s in cls.subcommands)
            lines += ["", "subcommands:", *(f"  {s.name.ljust(width)}  {s.summary}" for s in cls.subcommands)]
        lines += _parameter_lines(cls.params)
        if cls.examples:
            lines += ["", "examples:", *(f"  {e}" for e in cls.examples)]
        return "\n".join(lines)

    @classmethod
    def sends(cls, handle: Handle, line: str) -> str | None:
        """How this command would run `line` on `handle` (`sql --on shop "select 1"`), when
        `line` reads as that handle's statement; None otherwise. A line typed in the local
        mode that is no command is told this (`select 1;` while an SQL handle is open)."""
        return None

    @classmethod
    def subcommand(cls, word: str) -> type[Command] | None:
        for sub in cls.subcommands:
            if word in sub.all_names():
                return sub
        return None


RunFunc = Callable[["Session", Args], "Result"]


def _parameter_lines(params: tuple[Param, ...]) -> list[str]:
    described = [p for p in params if p.help]
    if not described:
        return []
    labels = [
        ", ".join(p.flags) + (f" {p.metavar or p.name.upper()}" if p.takes_value else "") if p.is_option else p.name
        for p in described
    ]
    width = max(len(label) for label in labels)
    lines = ["", "parameters:"]
    for label, param in zip(labels, described, strict=True):
        default = f" (default: {param.default})" if param.default not in (None, False, [], ()) else ""
        lines.append(f"  {label.ljust(width)}  {param.help}{default}")
    return lines


def command(
    name: str,
    *,
    summary: str,
    area: str = "general",
    params: Sequence[Param] = (),
    aliases: Sequence[str] = (),
    usage: str = "",
    examples: Sequence[str] = (),
    dash_args: bool = False,
    hidden: bool = False,
    switches_mode: bool = False,
) -> Callable[[RunFunc], type[Command]]:
    """Turn `def run(session, args) -> Result` into a Command class with this spec."""

    def wrap(func: RunFunc) -> type[Command]:
        attrs: dict[str, Any] = {
            "name": name,
            "summary": summary,
            "area": area,
            "params": tuple(params),
            "aliases": tuple(aliases),
            "usage": usage,
            "examples": tuple(examples),
            "dash_args": dash_args,
            "hidden": hidden,
            "switches_mode": switches_mode,
            "run": lambda self, session, args: func(session, args),
            "__doc__": func.__doc__,
            "__module__": func.__module__,
        }
        return type(f"{name.title().replace('-', '')}Command", (Command,), attrs)

    return wrap


@dataclass(frozen=True)
class Setting:
    """A session setting (`set NAME VALUE`): typed, validated, with a default."""

    name: str
    kind: Kind
    default: Any
    help: str = ""
    choices: tuple[str, ...] = field(default=())
    persist: bool = False  # `set` also writes it to the config file (a preference, not a session's state)
    positive: bool = False  # a DURATION that must be more than 0 (0 would make every wait fail at once)
