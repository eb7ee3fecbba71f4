"""Hosts and SSH: inventory, SSH mode, parallel `run`, and `copy` over SFTP, by stage.

hosts/ decides which hosts a line is about and how to reach each (inventory, ssh config,
ranges, target expressions, HostSpec; the `hosts` command); transport/ gets an authenticated
connection (keys, known_hosts, questions, login, the pool); exec/ runs commands, one or many
hosts at once (`run`); copy/ moves files over SFTP (`copy`); mode.py is SSH mode. state.py is
what the area keeps on the session. Only the specs (`command*.py`) and this module are
imported at startup; paramiko only when a connection is made.
"""

from __future__ import annotations

from opsh.commands.ssh.copy.command import copy_cmd
from opsh.commands.ssh.entry import complete_hosts, complete_targets, connect_ssh, resolve_connect_name
from opsh.commands.ssh.exec.command import run_cmd
from opsh.commands.ssh.hosts.commands import HostsCommand
from opsh.commands.ssh.settings import SETTINGS
from opsh.shell.spec import Kind

COMMANDS = (HostsCommand, run_cmd, copy_cmd)
CONNECTORS = {"ssh": connect_ssh}
RESOLVERS = (resolve_connect_name,)
COMPLETERS = {Kind.HOST: complete_hosts, Kind.TARGETS: complete_targets}
__all__ = ["COMMANDS", "COMPLETERS", "CONNECTORS", "RESOLVERS", "SETTINGS"]
