"""Hosts and SSH: inventory, SSH mode, parallel `run`, and `copy` over SFTP, by stage.

hosts/ decides which hosts a line is about and how to reach each (inventory, ssh config,
ranges, target expressions, HostSpec; the `hosts` command); transport/ gets an authenticated
connection (keys, known_hosts, questions, login, the pool); exec/ runs commands, one or many
hosts at once (`run`); copy/ moves files over SFTP (`copy`); mode.py is SSH mode, with
terminal.py (a remote pty with the local terminal attached) and sudo.py (sudo answered without
a terminal); edit.py and editing.py are `edit`. state.py is what the area keeps on the
session; errors.py how paramiko's exceptions read (imported here so that describing one finds
it). Only the specs (`command*.py`, edit.py) and this module are imported at startup; paramiko
only when a connection is made.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from opsh.commands.ssh.copy.command import CopyCommand
from opsh.commands.ssh.edit import EditCommand
from opsh.commands.ssh.errors import ERRORS
from opsh.commands.ssh.exec.command import RunCommand
from opsh.commands.ssh.hosts.commands import HostsCommand
from opsh.commands.ssh.settings import SETTINGS
from opsh.shell.spec import Kind


def _when_called(target: str) -> Callable[..., Any]:
    """`module:function`, imported on the first call, so collecting these costs startup nothing."""

    def call(*args: Any) -> Any:
        import importlib

        module, _, function = target.partition(":")
        return getattr(importlib.import_module(module), function)(*args)

    return call


COMMANDS = (HostsCommand, RunCommand, CopyCommand, EditCommand)
CONNECTORS = {"ssh": _when_called("opsh.commands.ssh.mode:connect_ssh")}
RESOLVERS = (_when_called("opsh.commands.ssh.hosts.lookup:resolve_connect_name"),)
COMPLETERS = {
    Kind.HOST: _when_called("opsh.commands.ssh.hosts.complete:hosts_completer"),
    Kind.TARGETS: _when_called("opsh.commands.ssh.hosts.complete:targets_completer"),
}
__all__ = ["COMMANDS", "COMPLETERS", "CONNECTORS", "ERRORS", "RESOLVERS", "SETTINGS"]
