"""Collecting what the modules in commands/ offer, once per session.

Each command module (the entry passes them in) may define, at module level and immutable:
- `COMMANDS`: command classes (the shell's verbs),
- `CONNECTORS`: {url scheme: function(session, ConnectRequest) -> Handle},
- `RESOLVERS`: functions(session, name) -> url or None, for `connect NAME`,
- `COMPLETERS`: {Kind: function(session, prefix) -> [(candidate, meta)]},
- `SETTINGS`: extra `Setting`s for `set`.
The registry is built from them and lives on the Session; nothing is registered globally.
A backend package's error table (`ERRORS` in its errors.py) is not collected here: describe()
in shell/errors.py, which runs where no Session is at hand, finds it among the loaded modules.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from types import ModuleType
from typing import TYPE_CHECKING, Any

from opsh.shell.errors import NotFound
from opsh.shell.spec import Command, Kind, Setting

if TYPE_CHECKING:
    from opsh.shell.handles import ConnectRequest, Handle
    from opsh.shell.session import Session

Connector = Callable[["Session", "ConnectRequest"], "Handle"]
Resolver = Callable[["Session", str], "str | None"]
KindCompleter = Callable[["Session", str], Iterable[tuple[str, str]]]

AREA_ORDER = (
    "shell",
    "files",
    "archive",
    "hashing",
    "time",
    "random",
    "system",
    "signals",
    "network",
    "ssh",
    "sql",
    "redis",
    "mongo",
    "memcache",
    "queue",
    "scripts",
    "general",
)


class Registry:
    """Commands by name and alias, plus connectors, resolvers, completers and settings.

    The modules are imported on first use, not when the registry is made: the REPL draws its
    first prompt and then loads them on a background thread, so importing a hundred
    command specs never delays the prompt. Every accessor waits for the load to finish.
    """

    def __init__(self, modules: Iterable[ModuleType] | Callable[[], Iterable[ModuleType]]) -> None:
        self._source = modules
        self._lock = threading.Lock()
        self._loaded = False
        self._commands: dict[str, type[Command]] = {}
        self._primary: list[type[Command]] = []
        self._connectors: dict[str, Connector] = {}
        self._resolvers: list[Resolver] = []
        self._completers: dict[Kind, KindCompleter] = {}
        self._settings: list[Setting] = []

    def load(self) -> Registry:
        if self._loaded:
            return self
        with self._lock:
            if not self._loaded:
                source = self._source() if callable(self._source) else self._source
                for module in source:
                    self._collect(module)
                self._loaded = True
        return self

    @property
    def commands(self) -> dict[str, type[Command]]:
        return self.load()._commands

    @property
    def primary(self) -> list[type[Command]]:
        return self.load()._primary

    @property
    def connectors(self) -> dict[str, Connector]:
        return self.load()._connectors

    @property
    def resolvers(self) -> list[Resolver]:
        return self.load()._resolvers

    @property
    def completers(self) -> dict[Kind, KindCompleter]:
        return self.load()._completers

    @property
    def settings(self) -> list[Setting]:
        return self.load()._settings

    def _collect(self, module: ModuleType) -> None:
        for cmd in getattr(module, "COMMANDS", ()):
            self._add(cmd)
        self._connectors.update(getattr(module, "CONNECTORS", {}))
        self._resolvers.extend(getattr(module, "RESOLVERS", ()))
        self._completers.update(getattr(module, "COMPLETERS", {}))
        self._settings.extend(getattr(module, "SETTINGS", ()))

    def add(self, cmd: type[Command]) -> None:
        self.load()
        self._add(cmd)

    def _add(self, cmd: type[Command]) -> None:
        for name in cmd.all_names():
            if name in self._commands and self._commands[name] is not cmd:
                raise RuntimeError(f"command name {name!r} defined twice")
            self._commands[name] = cmd
        self._primary.append(cmd)

    def get(self, name: str) -> type[Command]:
        cmd = self.commands.get(name)
        if cmd is not None:
            return cmd
        import difflib

        close = difflib.get_close_matches(name, list(self.commands), n=3, cutoff=0.7)
        hint = f"did you mean {', '.join(close)}?" if close else "type `help` for the list"
        raise NotFound(f"unknown command: {name}", hint)

    def find(self, name: str) -> type[Command] | None:
        return self.commands.get(name)

    def names(self) -> list[str]:
        """Every visible name and alias, for completion."""
        return sorted(n for n, c in self.commands.items() if not c.hidden)

    def by_area(self) -> list[tuple[str, list[type[Command]]]]:
        groups: dict[str, list[type[Command]]] = {}
        for cmd in self.primary:
            if not cmd.hidden:
                groups.setdefault(cmd.area, []).append(cmd)
        order = {area: i for i, area in enumerate(AREA_ORDER)}
        return [
            (area, sorted(cmds, key=lambda c: c.name))
            for area, cmds in sorted(groups.items(), key=lambda kv: (order.get(kv[0], 99), kv[0]))
        ]

    def describe(self) -> dict[str, Any]:
        return {"commands": len(self.primary), "schemes": sorted(self.connectors)}
