"""The session's hosts: groups, target expressions and HostSpecs, read from the inventory,
the config, loaded server lists and the last run.

targets.py parses expressions against a TargetContext and knows nothing of sessions; this is
where a session becomes that context, so `run`, `copy`, `hosts` and completion agree on names.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from opsh.commands.shared.targets import TargetContext, parse, split_label
from opsh.commands.ssh.hosts.hostspec import HostSpec, inventory, resolve
from opsh.commands.ssh.hosts.names import valid_host, valid_user
from opsh.commands.ssh.hosts.sshconf import concrete_hosts, config_path
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
    """`connect web1`: inventory names and ssh config aliases open an SSH handle, and so does
    a bare address or dotted host name (`connect 127.0.1.5`, `connect deploy@db.example.com`),
    as `run` takes them."""
    if name in inventory(session):
        return f"ssh://{name}"
    bare = _bare_host_url(name)
    if bare is not None and not session.path(name).exists():  # `connect app.db` is not a host
        return bare
    try:
        config = ssh_state(session).config.get(config_path(session))
    except Exception:  # noqa: BLE001 - a broken ssh config: not our name then
        swallowed(f"reading the ssh config to see whether {name!r} is an ssh host")
        return None
    return f"ssh://{name}" if name in concrete_hosts(config) else None


def _bare_host_url(text: str) -> str | None:
    """`ssh://...` for an IP address or a name with a dot, with an optional `user@`; None for a
    plain word (a mistyped connection name stays "unknown connection")."""
    import ipaddress

    user, at, host = text.rpartition("@")
    if not valid_host(host) or (at and not valid_user(user)):
        return None
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        if "." not in host.strip(".") or "/" in host or ":" in host:
            return None
        return f"ssh://{user}{at}{host}"
    shown = f"[{host}]" if address.version == 6 else host
    return f"ssh://{user}{at}{shown}"
