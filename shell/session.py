"""The Session: all state of one opsh run, passed to every command.

Handles, the current mode, settings, variables, the working directory and the outcome of the
last command live here and nowhere else, so two sessions in one process (as the tests run
them) never see each other's state.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from opsh.shell import formats, kinds
from opsh.shell.background import Background
from opsh.shell.config import Config
from opsh.shell.errors import ConfirmationRequired, NotFound, UsageError
from opsh.shell.interact import Interaction
from opsh.shell.progress import Progress
from opsh.shell.spec import Kind, Setting

if TYPE_CHECKING:
    from opsh.shell.dispatch import Engine
    from opsh.shell.handles import Handle
    from opsh.shell.registry import Registry

T = TypeVar("T")
_VAR_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

CORE_SETTINGS = (
    Setting("format", Kind.CHOICE, "table", "how results are shown (`help set` lists the formats)", formats.names()),
    Setting(
        "table_style",
        Kind.CHOICE,
        formats.BOX,
        f"how the table format draws: {formats.BOX} (opsh's own box) or a style such as markdown, grid",
        formats.table_styles(),
    ),
    Setting("pager", Kind.BOOL, True, "page output longer than the screen"),
    # 64: the fastest fresh logins on 500 hosts 40 ms away (tests/bench/wan.py: 20, 32, 64, 128
    # took 10.2, 8.9, 8.4, 8.7 s; past 64 the logins' CPU, not the latency, is what waits).
    Setting("fanout", Kind.INT, 64, "parallel connections for run, copy and sql|redis|mongo --on TARGETS"),
    Setting("timeout", Kind.DURATION, 30.0, "network timeout in seconds", positive=True),
    Setting("confirm", Kind.BOOL, True, "ask before dangerous actions"),
    Setting("color", Kind.CHOICE, "auto", "colours: auto (a terminal, no NO_COLOR, TERM not dumb), on, off", ("auto", "on", "off")),
    Setting(
        "editing_mode", Kind.CHOICE, "emacs", "keys at the prompt (kept in the config)", ("emacs", "vi"), persist=True
    ),
)


class Settings:
    """Typed settings with defaults; values come from the config file, then `set`.

    The core settings exist at once; those that command modules add (`more`) are merged in
    the first time a name outside the core is asked for, so the registry can load after the
    first prompt. Config values for not-yet-known names wait until then.
    """

    def __init__(
        self,
        specs: tuple[Setting, ...] | list[Setting],
        more: Callable[[], list[Setting]] | None = None,
        configured: dict[str, Any] | None = None,
    ) -> None:
        self._specs = {s.name: s for s in specs}
        self.values: dict[str, Any] = {s.name: s.default for s in specs}
        # Names set by the config file or `set` (a mode's format_hint yields to a chosen format).
        self.explicit: set[str] = set()
        self._more = more
        self._configured = dict(configured or {})
        for name in [n for n in self._configured if n in self._specs]:
            self._apply_configured(name)

    def _apply_configured(self, name: str) -> None:
        value = self._configured.pop(name)
        self.set(name, value if isinstance(value, bool) else str(value))

    def _extend(self) -> None:
        if self._more is None:
            return
        more, self._more = self._more, None
        for spec in more():
            self._specs.setdefault(spec.name, spec)
            self.values.setdefault(spec.name, spec.default)
        for name in [n for n in self._configured if n in self._specs]:
            self._apply_configured(name)

    @property
    def specs(self) -> dict[str, Setting]:
        self._extend()
        return self._specs

    def names(self) -> list[str]:
        return list(self.specs)

    def __contains__(self, name: str) -> bool:
        return name in self._specs or name in self.specs

    def get(self, name: str) -> Any:
        if name not in self.values:
            self._extend()
        return self.values[name]

    def set(self, name: str, raw: Any) -> Any:
        spec = self._specs.get(name) or self.specs[name]
        if isinstance(raw, bool) and spec.kind is not Kind.BOOL:
            raw = str(raw)
        value = raw if isinstance(raw, bool) else _convert_setting(spec, str(raw))
        self.values[name] = value
        self.explicit.add(name)
        return value

    def reset(self, name: str) -> None:
        self.values[name] = (self._specs.get(name) or self.specs[name]).default
        self.explicit.discard(name)

    def is_explicit(self, name: str) -> bool:
        """Whether the user chose this value (config or `set`) rather than leaving the default."""
        return name in self.explicit

    def display(self, name: str) -> str:
        return _shown_value(self.get(name))

    def help_lines(self) -> list[str]:
        """Every setting, what it does and its default, for `help set`: read from this table,
        so a setting a command module adds (csv_null, auto_vertical...) is never left out."""
        specs = list(self.specs.values())
        width = max(len(spec.name) for spec in specs)
        lines = ["settings (set NAME VALUE; `set` alone shows what each one is now):"]
        for spec in specs:
            lines.append(f"  {spec.name.ljust(width)}  {spec.help}{_choices_and_default(spec)}")
        return lines


def _shown_value(value: Any) -> str:
    if isinstance(value, bool):
        return "on" if value else "off"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _choices_and_default(spec: Setting) -> str:
    """` (on|off, default on)`; a long list of choices is left to the text after the table."""
    if spec.kind is Kind.BOOL:
        choices = "on|off, "
    elif spec.kind is Kind.CHOICE and len(spec.choices) <= 6:
        choices = "|".join(spec.choices) + ", "
    else:
        choices = ""
    default = _shown_value(spec.default)
    return f" ({choices}default {default})" if default else f" ({choices.rstrip(', ')})" if choices else ""


def _convert_setting(spec: Setting, raw: str) -> Any:
    from opsh.shell.spec import Param

    value = kinds.convert(Param(spec.name, spec.kind, choices=spec.choices), raw)
    if spec.kind is Kind.INT and value < 1:
        raise UsageError(f"{spec.name} must be at least 1")
    if spec.positive and value <= 0:
        raise UsageError(f"{spec.name} must be more than 0", f"e.g. set {spec.name} 30 (seconds), or 500ms")
    return value


@dataclass
class LastRun:
    """The previous statement's outcome, for the toolbar and `$?`-like checks."""

    line: str = ""
    ok: bool = True
    status: str = ""
    seconds: float = 0.0
    exit_code: int = 0


class HistoryEntry(Protocol):
    @property
    def time(self) -> float: ...

    @property
    def mode(self) -> str: ...

    @property
    def line(self) -> str: ...

    @property
    def exit(self) -> int: ...


class LineHistory(Protocol):
    """The persistent line history as the shell sees it (history/store.py implements it; the
    entry wires it in, so the core never imports history/)."""

    def append(self, line: str, mode: str, exit_code: int) -> object: ...

    def entries(self) -> Sequence[HistoryEntry]: ...


class Session:
    def __init__(
        self,
        registry: Registry,
        config: Config,
        io: Interaction,
        *,
        debug: bool = False,
        history: LineHistory | None = None,
    ) -> None:
        self.registry = registry
        self.config = config
        self.io = io
        self.debug = debug
        self.history = history
        self.settings = Settings(CORE_SETTINGS, lambda: registry.settings, config.settings)
        self.variables: dict[str, str] = {}
        self.handles: dict[str, Handle] = {}
        self.current: str | None = None
        self.cwd = Path.cwd()
        self.last = LastRun()
        self.started = time.time()
        self.areas: dict[str, Any] = {}
        # Called after each statement with a StatementRecord (recording, transcripts).
        self.observers: list[Callable[[Any], None]] = []
        # The Engine feeding this session (set by the Engine): `replay` runs scripts through it.
        self.engine: Engine = None  # type: ignore[assignment]  # set by Engine.__init__ at once
        # Set by `exit`: the front end stops reading input and exits with this status.
        self.exit_code: int | None = None
        # Every thread that works beside the prompt; close_all() waits for them.
        self.background = Background()

    # -- paths
    def path(self, text: str | os.PathLike[str]) -> Path:
        """`text` as an absolute path: `~` expanded, relative to the session's directory."""
        path = Path(os.path.expanduser(os.fspath(text)))
        return path if path.is_absolute() else self.cwd / path

    def chdir(self, text: str) -> Path:
        target = self.path(text).resolve()
        if not target.exists():
            raise NotFound(f"no such file or directory: {text}")
        if not target.is_dir():
            raise NotFound(f"not a directory: {text}")
        self.cwd = target
        return target

    # -- handles and modes
    def handle(self, name: str) -> Handle:
        try:
            return self.handles[name]
        except KeyError:
            known = ", ".join(self.handles) or "none open"
            raise NotFound(f"no handle named {name!r}", f"open: {known}") from None

    @property
    def current_handle(self) -> Handle | None:
        return self.handles.get(self.current) if self.current else None

    def add_handle(self, handle: Handle, make_current: bool = True) -> None:
        self.handles[handle.name] = handle
        if make_current:
            self.current = handle.name

    def use(self, name: str) -> None:
        if name == "local":
            self.current = None
            return
        self.current = self.handle(name).name

    def close_handle(self, name: str) -> None:
        handle = self.handles.pop(name, None)
        if handle is None:
            raise NotFound(f"no handle named {name!r}")
        try:
            handle.close()
        finally:
            if self.current == name:
                self.current = None

    def close_all(self) -> None:
        """Close every handle, then every area state that holds resources (`close()`), then
        wait for the background threads: their sockets are closed by now, so they end soon."""
        try:
            for name in list(self.handles):
                self.close_handle(name)
            for state in list(self.areas.values()):
                close = getattr(state, "close", None)
                if callable(close):
                    close()
        finally:
            left = self.background.stop()
            if left:
                import logging

                logging.getLogger("opsh").debug("background threads still running at exit: %s", ", ".join(left))

    def unique_handle_name(self, base: str) -> str:
        base = re.sub(r"[^A-Za-z0-9_.-]+", "_", base).strip("_") or "conn"
        if base == "local":
            base = "local1"
        name, n = base, 2
        while name in self.handles:
            name, n = f"{base}-{n}", n + 1
        return name

    # -- variables
    def lookup(self, name: str, default: str | None) -> str:
        """Value of `${name}` (or `${name:-default}`); undefined without default is an error."""
        value = self.variables.get(name)
        if value:
            return value
        if default is not None:
            return default
        if value is not None:
            return value
        raise UsageError(f"undefined variable: ${{{name}}}", f"set {name} VALUE, or write ${{{name}:-default}}")

    def set_variable(self, name: str, value: str) -> None:
        if not _VAR_NAME.match(name):
            raise UsageError(f"bad variable name: {name!r}", "use letters, digits and _, not starting with a digit")
        self.variables[name] = value

    # -- asking
    def confirm(self, question: str) -> None:
        """Go on only if confirmed; raise ConfirmationRequired otherwise."""
        if not self.settings.get("confirm"):
            return
        if self.io.confirm(question):
            return
        if not self.io.interactive:
            raise ConfirmationRequired(f"not confirmed: {question.rstrip('?')}", "add --yes to allow it in scripts")
        raise ConfirmationRequired("not confirmed, nothing done")

    def secret(self, prompt: str) -> str:
        return self.io.secret(prompt)

    def progress(self, total: float | None, label: str, unit: str = "") -> Progress:
        """A progress bar for long work; `unit="B"` when it counts bytes."""
        return Progress(total, label, enabled=self.io.interactive, unit=unit)

    # -- per-area state (SSH inventory, last run's failed hosts...)
    def area(self, key: str, factory: Callable[[], T]) -> T:
        if key not in self.areas:
            self.areas[key] = factory()
        return self.areas[key]  # type: ignore[no-any-return]

    @property
    def timeout(self) -> float:
        return float(self.settings.get("timeout"))
