"""Hosts and SSH: inventory, SSH mode, parallel `run`, and `copy` over SFTP.

One concern per module: nodeset (ranges), targets (expressions), inventory (hosts file and
server lists), sshconf (~/.ssh/config), hostspec (name -> how to connect), hostkeys
(known_hosts), keys (private keys and the agent), conn (connect + authenticate), pool (kept
connections), remote/localexec (one command), fanout (many hosts at once), hostrun/transfer
(one host's share of run/copy), gather (how results are shown), mode (SSH mode), and one
module per command. paramiko is imported only inside functions.
"""

from __future__ import annotations

from commands.ssh.context import SETTINGS as _CONTEXT_SETTINGS
from commands.ssh.copy_cmd import copy_cmd
from commands.ssh.hosts_cmd import HostsCommand, hosts_completer, resolve_connect_name, targets_completer
from commands.ssh.mode import connect_ssh
from commands.ssh.run_cmd import run_cmd
from commands.ssh.sshconf import SETTINGS as _CONF_SETTINGS
from shell.spec import Kind

COMMANDS = (HostsCommand, run_cmd, copy_cmd)
CONNECTORS = {"ssh": connect_ssh}
RESOLVERS = (resolve_connect_name,)
COMPLETERS = {Kind.HOST: hosts_completer, Kind.TARGETS: targets_completer}
SETTINGS = (*_CONF_SETTINGS, *_CONTEXT_SETTINGS)
