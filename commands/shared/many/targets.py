"""Which connections a `--on TARGETS` expression names, and what @failed / @ok remember.

Names are open handles of the backend's kind and [connections.NAME] entries of the config
whose URL scheme is the backend's; [groups] of the config may list them as well as hosts.
@failed / @ok are per backend (`sql --on @failed` is about the last SQL fan-out, never about
an SSH run), kept on the Session.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from opsh.commands.shared.fanout.engine import Outcome
from opsh.commands.shared.targets import TargetContext, parse
from opsh.shell.errors import NotFound, UsageError

if TYPE_CHECKING:
    from opsh.shell.handles import Handle
    from opsh.shell.result import Result
    from opsh.shell.session import Session


@dataclass(frozen=True)
class Backend:
    """What a backend lends the fan-out: `area` names it (sql, redis, mongo) in messages and
    in @failed; `accepts` tells its handles apart; `schemes` picks its config connections;
    `run` executes one statement on a handle in a worker thread (readonly and danger checks
    included: they are the handle's own); cancelling is the handle's `cancel()`."""

    area: str
    schemes: frozenset[str]
    accepts: Callable[[Handle], bool]
    run: Callable[[Session, Handle, Any], Result]


@dataclass
class ManyState:
    """The last fan-out's outcome per backend area: the source of @ok and @failed."""

    last: dict[str, Outcome] = field(default_factory=dict)


def many_state(session: Session) -> ManyState:
    return session.area("many", ManyState)


def config_names(session: Session, backend: Backend) -> list[str]:
    """The config's connections that belong to this backend (by URL scheme)."""
    return [
        name
        for name, conf in session.config.connections.items()
        if urllib.parse.urlsplit(conf.url).scheme.lower() in backend.schemes
    ]


def known_names(session: Session, backend: Backend) -> list[str]:
    """Open handles of this backend, then its config connections (no name twice)."""
    handles = [name for name, handle in session.handles.items() if backend.accepts(handle)]
    return list(dict.fromkeys([*handles, *config_names(session, backend)]))


def context(session: Session, backend: Backend) -> TargetContext:
    def last(kind: str) -> list[str] | None:
        outcome = many_state(session).last.get(backend.area)
        if outcome is None:
            return None
        return outcome.ok if kind == "ok" else outcome.failed

    groups = {name: [expr] for name, expr in session.config.groups.items()}
    return TargetContext(
        lambda: groups, lambda: known_names(session, backend), last, hosts=False, what=f"`{backend.area} --on`"
    )


def resolve(session: Session, backend: Backend, expression: str, excludes: list[str] | None) -> list[str]:
    """The target names, each checked: an open handle of this backend or one of its config
    connections. A typo fails the whole line before anything runs."""
    names = parse(expression, context(session, backend), excludes)
    if not names:
        raise UsageError(f"no targets left in {expression!r}", "check the expression and -x")
    own = set(config_names(session, backend))
    for name in names:
        handle = session.handles.get(name)
        if handle is not None and not backend.accepts(handle):
            raise UsageError(f"{name} is a {handle.kind} handle, not {backend.area}")
        if handle is None and name not in own:
            raise _unknown(session, backend, name)
    return names


def _unknown(session: Session, backend: Backend, name: str) -> Exception:
    conf = session.config.connections.get(name)
    if conf is not None:
        return UsageError(f"connection {name} is not a {backend.area} connection ({conf.url.split(':', 1)[0]})")
    known = ", ".join(known_names(session, backend)) or "none"
    return NotFound(f"unknown {backend.area} target {name!r}", f"open handles and [connections]: {known}")


def completions(session: Session, backend: Backend, prefix: str) -> list[str]:
    """What `--on ` + Tab offers: connection names, open handles, @groups, @all/@failed/@ok;
    after a comma, the next name of the list."""
    head, comma, _ = prefix.rpartition(",")
    lead = head + comma
    out = [lead + name for name in known_names(session, backend)]
    out += [lead + "@" + group for group in sorted(session.config.groups)]
    out += [lead + "@" + special for special in ("all", "failed", "ok")]
    return [text for text in out if text.startswith(prefix)]
