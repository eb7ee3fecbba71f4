"""What the registry collects from the SSH area (connector, resolver, completers), as thin
functions that import the real code only when called: opsh's startup never pays for it."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from opsh.commands.ssh.mode import SshHandle
    from opsh.shell.handles import ConnectRequest
    from opsh.shell.session import Session


def connect_ssh(session: Session, request: ConnectRequest) -> SshHandle:
    from opsh.commands.ssh.mode import connect_ssh as connect

    return connect(session, request)


def resolve_connect_name(session: Session, name: str) -> str | None:
    from opsh.commands.ssh.hosts.lookup import resolve_connect_name as resolve

    return resolve(session, name)


def complete_hosts(session: Session, prefix: str) -> list[tuple[str, str]]:
    from opsh.commands.ssh.hosts.complete import hosts_completer

    return hosts_completer(session, prefix)


def complete_targets(session: Session, prefix: str) -> list[tuple[str, str]]:
    from opsh.commands.ssh.hosts.complete import targets_completer

    return targets_completer(session, prefix)
