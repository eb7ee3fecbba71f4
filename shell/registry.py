"""Collecting what the modules in commands/ offer, once per session.

Each module in commands/ may define, at module level and immutable:
- `COMMANDS`: command classes (the shell's verbs),
- `CONNECTORS`: {url scheme: function(session, ConnectRequest) -> Handle},
- `RESOLVERS`: functions(session, name) -> url or None, for `connect NAME`,
- `COMPLETERS`: {Kind: function(session, prefix) -> [(candidate, meta)]},
- `SETTINGS`: extra `Setting`s for `set`.
The registry is built from them and lives on the Session; nothing is registered globally.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterable
from types import ModuleType
from typing import TYPE_CHECKING, Any

from shell.errors import NotFound
from shell.spec import Command, Kind, Setting

if TYPE_CHECKING:
    from shell.handles import ConnectRequest, Handle
    from shell.session import Session

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
    """Commands by name and alias, plus connectors, resolvers, completers and settings."""

    def __init__(self, modules: Iterable[ModuleType]) -> None:
        self.commands: dict[str, type[Command]] = {}
        self.primary: list[type[Command]] = []
        self.connectors: dict[str, Connector] = {}
        self.resolvers: list[Resolver] = []
        self.completers: dict[Kind, KindCompleter] = {}
        self.settings: list[Setting] = []
        for module in modules:
            self._collect(module)

    @classmethod
    def discover(cls) -> Registry:
        """Import every module of the commands package (they import drivers lazily)."""
        import commands

        names = sorted(info.name for info in pkgutil.iter_modules(commands.__path__))
        return cls(importlib.import_module(f"commands.{name}") for name in names)

    def _collect(self, module: ModuleType) -> None:
        for cmd in getattr(module, "COMMANDS", ()):
            self.add(cmd)
        self.connectors.update(getattr(module, "CONNECTORS", {}))
        self.resolvers.extend(getattr(module, "RESOLVERS", ()))
        self.completers.update(getattr(module, "COMPLETERS", {}))
        self.settings.extend(getattr(module, "SETTINGS", ()))

    def add(self, cmd: type[Command]) -> None:
        for name in cmd.all_names():
            if name in self.commands and self.commands[name] is not cmd:
                raise RuntimeError(f"command name {name!r} defined twice")
            self.commands[name] = cmd
        self.primary.append(cmd)

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
