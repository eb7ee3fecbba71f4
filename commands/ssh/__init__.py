"""Hosts and SSH: inventory, SSH mode, parallel `run`, and `copy` over SFTP.

One concern per module: nodeset (ranges), targets (expressions), inventory (hosts file and
server lists), sshconf (~/.ssh/config), hostspec (name -> how to connect), hostkeys
(known_hosts), keys (private keys and the agent), prompting (questions from worker threads),
conn (connect + authenticate), pool (kept connections), remote/localexec (one command),
fanout (many hosts at once), hostrun/transfer (one host's share of run/copy), gather (how
results are shown), mode (SSH mode), remotecomplete (remote paths); the specs of the
commands are in *_cmd.py and their work in runner/copying/hosts_ops. Only the specs and
entry.py are imported at startup; paramiko only when a connection is made.
"""

from __future__ import annotations

from opsh.commands.ssh.copy_cmd import copy_cmd
from opsh.commands.ssh.entry import complete_hosts, complete_targets, connect_ssh, resolve_connect_name
from opsh.commands.ssh.hosts_cmd import HostsCommand
from opsh.commands.ssh.run_cmd import run_cmd
from opsh.commands.ssh.settings import SETTINGS
from opsh.shell.spec import Kind

COMMANDS = (HostsCommand, run_cmd, copy_cmd)
CONNECTORS = {"ssh": connect_ssh}
RESOLVERS = (resolve_connect_name,)
COMPLETERS = {Kind.HOST: complete_hosts, Kind.TARGETS: complete_targets}
__all__ = ["COMMANDS", "COMPLETERS", "CONNECTORS", "RESOLVERS", "SETTINGS"]
