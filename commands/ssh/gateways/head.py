"""How this machine reaches a gateway, and what OpenSSH's complaints mean in opsh's words.

ClusterShell launches each gateway with an OpenSSH client. Its command line is built here from
opsh's own HostSpec of the gateway (inventory, ssh config, known_hosts as opsh reads them),
never from ClusterShell's `ssh_options`, which belong to the gateways' ssh to their leaves.
OpenSSH runs in batch mode: a gateway needs key (or agent) authentication, and its host key
must already be known, or accepted with --accept-new.
"""

from __future__ import annotations

import math
import re
from pathlib import Path
from typing import TYPE_CHECKING

from opsh.shell.errors import ConnectError

if TYPE_CHECKING:
    from opsh.commands.ssh.hosts.hostspec import HostSpec
    from opsh.commands.ssh.state import SshState


def gateway_argv(spec: HostSpec, command: str, timeout: float, accept_new: bool, config: Path | None) -> list[str]:
    """`ssh ... GATEWAY COMMAND` with the settings opsh resolved for the gateway."""
    strict = "accept-new" if accept_new or spec.strict == "accept-new" else "yes"
    argv = ["ssh"]
    if config is not None and config.exists():
        argv += ["-F", str(config)]
    options = {
        "BatchMode": "yes",
        "ConnectTimeout": str(max(1, math.ceil(timeout))),
        "HostName": spec.hostname,
        "Port": str(spec.port),
        "User": spec.user,
        "UserKnownHostsFile": str(spec.known_hosts),
        "StrictHostKeyChecking": strict,
        "ForwardAgent": "no",
        "ForwardX11": "no",
        "ClearAllForwardings": "yes",
    }
    if spec.system_known_hosts:
        options["GlobalKnownHostsFile"] = " ".join(str(p) for p in spec.system_known_hosts)
    if spec.identities_only:
        options["IdentitiesOnly"] = "yes"
    if spec.host_key_alias:
        options["HostKeyAlias"] = spec.host_key_alias
    if spec.proxy_jump:
        options["ProxyJump"] = spec.proxy_jump
    if spec.proxy_command:
        options["ProxyCommand"] = spec.proxy_command
    argv += [f"-o{key}={value}" for key, value in options.items()]
    argv += [f"-oIdentityFile={path}" for path in spec.identity_files]
    return [*argv, "--", spec.name, command]


def check_known(state: SshState, spec: HostSpec, accept_new: bool) -> None:
    """A gateway's key must be on file before OpenSSH (in batch mode) meets it: say so now,
    with the remedy, instead of OpenSSH's "Host key verification failed" for every leaf."""
    if accept_new or spec.strict == "accept-new":
        return
    known = state.known_hosts(spec.known_hosts, list(spec.system_known_hosts))
    if not known.knows(spec.known_as, spec.known_without_port):
        raise ConnectError(
            f"unknown host key for gateway {spec.name} ({spec.known_as})",
            f"`connect {spec.name}` once to check and trust it, or add --accept-new",
        )


# OpenSSH's messages, by what they start with or contain, in the words a direct run uses.
_MESSAGES = (
    (re.compile(r"connect to host \S+ port \d+: Connection refused"), "connection refused"),
    (re.compile(r"connect to host (\S+) port (\d+): Connection timed out"), r"timed out connecting to \1:\2"),
    (re.compile(r"connect to host \S+ port \d+: No route to host"), "host unreachable"),
    (re.compile(r"connect to host \S+ port \d+: Network is unreachable"), "network unreachable"),
    (re.compile(r"Could not resolve hostname [^:]+: (.*)"), r"cannot resolve host name (\1)"),
    (re.compile(r"(\S+): Permission denied \(([^)]*)\)"), r"permission denied (\2) for \1"),
    (re.compile(r"Host key verification failed"), "host key verification failed"),
    (re.compile(r"Connection closed by \S+ port \d+"), "the server closed the connection"),
)
# What a gateway's own shell or Python says when it cannot start ClusterShell's gateway.
_GATEWAY_MESSAGES = (
    (re.compile(r"(\S+): (?:No such file or directory|command not found)"), r"\1 not found on the gateway"),
    (re.compile(r"No module named '?ClusterShell"), "ClusterShell is not installed for the gateway's python"),
)


def ssh_message(line: str, gateway: bool = False) -> str:
    """One line of what OpenSSH (or, for a `gateway`, its shell or Python) printed, as an
    opsh error."""
    text = " ".join(line.split())
    for pattern, words in (*_GATEWAY_MESSAGES, *_MESSAGES) if gateway else _MESSAGES:
        found = pattern.search(text)
        if found:
            return found.expand(words)
    return text.removeprefix("ssh: ") or "ssh failed"
