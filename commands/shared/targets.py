"""Target expressions: which hosts a `run` or `copy` is about, and which named connections or
open handles a `sql|redis|mongo --on TARGETS` fans out to (the same syntax for both).

    web1                one host (inventory name, ssh config alias, or a host name)
    web[01-20]          a range (zero padding kept); db[1,3,5-7] a list of numbers
    @web                a group ([groups] in the config, `groups` in the hosts file)
    @all                every inventory host (hosts file and loaded server lists)
    @failed  @ok        hosts that failed / succeeded in the previous run or copy
    a,b,c               several of the above; `!web03` inside the list excludes
    root@web[1-3]       a user for these hosts
    local               this machine, without SSH

`-x EXPR` / `--exclude EXPR` on the command line excludes too. The result keeps the order
of the expression and never names a host twice.

This module is pure string work against a TargetContext: the SSH area builds one from its
inventory (ssh/hosts/lookup.py), the database fan-out from the config's connections and the
open handles (commands/fanout.py). `local` and `user@` are host ideas: a context for
connections turns them off, so `local` is a name like any other there.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from opsh.commands.shared.nodeset import expand, split_top
from opsh.shell.errors import NotFound, UsageError

SPECIAL = ("all", "failed", "ok")


@dataclass
class TargetContext:
    """Where names come from; built from the session by `target_context()` in lookup.py."""

    groups: Callable[[], dict[str, list[str]]]  # group -> member expressions
    all_hosts: Callable[[], list[str]]
    last: Callable[[str], list[str] | None]  # "ok" | "failed" -> hosts, None when no run yet
    hosts: bool = True  # `local` and `user@name` mean something (hosts, not connections)
    what: str = "run or copy"  # what sets @failed / @ok, for the error when nothing did yet


def parse(expression: str, context: TargetContext, excludes: list[str] | None = None) -> list[str]:
    """Host labels (`name` or `user@name`) for `expression` minus `excludes`."""
    if not expression.strip():
        raise UsageError("no targets given", "e.g. web1, web[01-20], @group, @failed, local")
    include: list[str] = []
    exclude: set[str] = set()
    for item in split_top(expression):
        item = item.strip()
        if not item:
            continue
        if item.startswith("!"):
            exclude.update(_names(_item(item[1:], context, set())))
        else:
            include += _item(item, context, set())
    for expr in excludes or []:
        for item in split_top(expr):
            if item.strip():
                exclude.update(_names(_item(item.strip(), context, set())))
    chosen = [label for label in dict.fromkeys(include) if label not in exclude and _name(label) not in exclude]
    return chosen


def _item(item: str, context: TargetContext, seen: set[str]) -> list[str]:
    if "@" in item and not item.startswith("@") and context.hosts:
        user, _, rest = item.partition("@")
        if not rest:
            raise UsageError(f"bad target {item!r}", "write user@host, user@web[1-3] or user@@group")
        return [f"{user}@{_name(label)}" for label in _item(rest, context, seen)]
    if item.startswith("@"):
        return _group(item[1:], context, seen)
    if item == "local" and context.hosts:
        return ["local"]
    return expand(item)


def _group(name: str, context: TargetContext, seen: set[str]) -> list[str]:
    if name in ("failed", "ok"):
        hosts = context.last(name)
        if hosts is None:
            raise NotFound(f"@{name}: no {context.what} yet in this session")
        return list(hosts)
    if name == "all":
        return context.all_hosts()
    groups = context.groups()
    if name not in groups:
        known = ", ".join(f"@{g}" for g in sorted(groups)) or "none defined"
        raise NotFound(f"unknown group @{name}", f"groups: {known}; see `hosts groups`")
    if name in seen:
        raise UsageError(f"group @{name} includes itself")
    out: list[str] = []
    for member in groups[name]:
        for item in split_top(member):
            if item.strip():
                out += _item(item.strip(), context, seen | {name})
    return out


def _name(label: str) -> str:
    return label.rpartition("@")[2]


def _names(labels: list[str]) -> list[str]:
    return [_name(label) for label in labels] + labels


def split_label(label: str) -> tuple[str | None, str]:
    """(user or None, host name) of a target label."""
    user, at, name = label.rpartition("@")
    return (user if at else None), name
