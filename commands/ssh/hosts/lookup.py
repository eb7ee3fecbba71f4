"""The session's hosts: groups, target expressions and HostSpecs, read from the inventory,
the config, loaded server lists and the last run.

targets.py parses expressions against a TargetContext and knows nothing of sessions; this is
where a session becomes that context, so `run`, `copy`, `hosts` and completion agree on names.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from opsh.commands.ssh.hosts.hostspec import HostSpec, inventory, resolve
from opsh.commands.ssh.hosts.sshconf import concrete_hosts, config_path
from opsh.commands.ssh.hosts.targets import TargetContext, parse, split_label
from opsh.commands.ssh.state import ssh_state
from opsh.shell.errors import swallowed

if TYPE_CHECKING:
    from opsh.shell.session import Session


def groups(session: Session) -> dict[str, list[str]]:
    """Group -> member expressions: config [groups], hosts file groups, loaded server lists."""
    out: dict[str, list[str]] = {name: [expr] for name, expr in session.config.groups.items()}
    for entry in inventory(session).values():
        for group in entry.groups:
            out.setdefault(group, []).append(entry.name)
    for group, members in ssh_state(session).loaded_groups.items():
        out.setdefault(group, []).extend(members)
    return out


def target_context(session: Session) -> TargetContext:
    def last(kind: str) -> list[str] | None:
        run = ssh_state(session).last
        if run is None:
            return None
        return run.ok if kind == "ok" else run.failed

    return TargetContext(lambda: groups(session), lambda: list(inventory(session)), last)


def targets(session: Session, expression: str, excludes: list[str] | None = None) -> list[str]:
    return parse(expression, target_context(session), excludes)


def specs_for(session: Session, labels: Iterable[str]) -> dict[str, HostSpec]:
    """A HostSpec per label (not for `local`)."""
    out = {}
    entries = inventory(session)
    for label in labels:
        if label == "local":
            continue
        user, name = split_label(label)
        out[label] = resolve(session, name, user, entries=entries)
    return out


def resolve_connect_name(session: Session, name: str) -> str | None:
    """`connect web1`: inventory names and ssh config aliases open an SSH handle."""
    if name in inventory(session):
        return f"ssh://{name}"
    try:
        config = ssh_state(session).config.get(config_path(session))
    except Exception:  # noqa: BLE001 - a broken ssh config: not our name then
        swallowed(f"reading the ssh config to see whether {name!r} is an ssh host")
        return None
    return f"ssh://{name}" if name in concrete_hosts(config) else None
