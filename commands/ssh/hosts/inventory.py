"""opsh's own hosts file (TOML) and the study sheet's `host port user password` server list.

The hosts file lives at `session.config.paths.hosts_file` and holds names, addresses, ports,
users and groups, never secrets:

    [hosts.web01]
    address = "10.0.0.11"
    port = 22
    user = "deploy"
    groups = ["web", "prod"]

A server list is accepted for compatibility, but its passwords stay in memory (SshState) for
the session that loaded it and are never written anywhere.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from opsh.commands.ssh.hosts.names import valid_host, valid_user
from opsh.shell import fileread
from opsh.shell.config import write_private
from opsh.shell.errors import OpshError, UsageError

_BARE_KEY = re.compile(r"^[A-Za-z0-9_-]+$")
_NAME = re.compile(r"^[A-Za-z0-9_.:-]+$")


@dataclass
class HostEntry:
    """One inventory host; None fields fall back to ~/.ssh/config, then to SSH defaults."""

    name: str
    address: str | None = None
    port: int | None = None
    user: str | None = None
    groups: list[str] = field(default_factory=list)
    source: str = "hosts file"


def check_name(name: str, what: str = "host name") -> str:
    if not _NAME.match(name) or name.startswith(("@", "-", "!")) or name == "local":
        raise UsageError(f"bad {what}: {name!r}", "letters, digits, and . _ - (not `local`)")
    return name


def read_hosts_file(path: Path) -> dict[str, HostEntry]:
    if not path.exists():
        return {}
    import tomllib

    text = fileread.read_text(path, what="hosts file")  # a regular file, bounded: never a fifo or /dev/zero
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise OpshError(f"hosts file {path}: {exc}", "fix it by hand or remove it") from None
    hosts = raw.get("hosts", {})
    if not isinstance(hosts, dict):
        raise OpshError(f"hosts file {path}: [hosts] must be a table")
    return {str(name): _entry(str(name), body, path) for name, body in hosts.items()}


def _entry(name: str, body: Any, path: Path) -> HostEntry:
    if not isinstance(body, dict):
        raise OpshError(f"hosts file {path}: [hosts.{name}] must be a table")
    port = body.get("port")
    groups = body.get("groups", [])
    if port is not None and not isinstance(port, int):
        raise OpshError(f"hosts file {path}: [hosts.{name}] port must be a number")
    if isinstance(groups, str):
        groups = [groups]
    return HostEntry(name, body.get("address"), port, body.get("user"), [str(g) for g in groups])


def write_hosts_file(path: Path, entries: dict[str, HostEntry]) -> None:
    """Rewrite the file atomically; only names, addresses, ports, users and groups."""
    lines = ["# opsh hosts: `hosts add`, `hosts rm`, or edit by hand", ""]
    for entry in entries.values():
        lines.append(f"[hosts.{_key(entry.name)}]")
        if entry.address:
            lines.append(f"address = {json.dumps(entry.address)}")
        if entry.port:
            lines.append(f"port = {int(entry.port)}")
        if entry.user:
            lines.append(f"user = {json.dumps(entry.user)}")
        if entry.groups:
            lines.append(f"groups = [{', '.join(json.dumps(g) for g in entry.groups)}]")
        lines.append("")
    write_private(path, "\n".join(lines))


def _key(name: str) -> str:
    return name if _BARE_KEY.match(name) else json.dumps(name)


@dataclass
class ServerListLine:
    host: str
    port: int
    user: str | None
    password: str | None


def parse_server_list(text: str, origin: str) -> list[ServerListLine]:
    """`host [port [user [password]]]` per line; blank lines and `#` lines are skipped (a `#`
    inside a line is kept: it may be part of a password)."""
    out: list[ServerListLine] = []
    for number, line in enumerate(text.splitlines(), 1):
        fields = [] if line.lstrip().startswith("#") else line.split()
        if not fields:
            continue
        if len(fields) > 4:
            raise UsageError(f"{origin}:{number}: expected `host port user password`, got {len(fields)} fields")
        port = 22
        if len(fields) > 1:
            if not re.fullmatch(r"[0-9]{1,5}", fields[1]) or not 0 < int(fields[1]) < 65536:
                raise UsageError(f"{origin}:{number}: bad port {fields[1][:20]!r}")
            port = int(fields[1])
        _check_fields(fields, f"{origin}:{number}")
        out.append(
            ServerListLine(
                fields[0], port, fields[2] if len(fields) > 2 else None, fields[3] if len(fields) > 3 else None
            )
        )
    return out


def _check_fields(fields: list[str], where: str) -> None:
    """The host and user of one server-list line, as every host name is checked (names.py)."""
    if not valid_host(fields[0]):
        raise UsageError(f"{where}: host name {fields[0]!r} contains invalid characters", "as OpenSSH refuses it")
    if len(fields) > 2 and not valid_user(fields[2]):
        raise UsageError(f"{where}: user name {fields[2]!r} contains invalid characters", "as OpenSSH refuses it")


def server_list_names(lines: list[ServerListLine]) -> list[str]:
    """A host listed twice on different ports gets `host-port` names, so both stay reachable."""
    counts: dict[str, int] = {}
    for line in lines:
        counts[line.host] = counts.get(line.host, 0) + 1
    return [line.host if counts[line.host] == 1 else f"{line.host}-{line.port}" for line in lines]
