"""From a name typed by the user to everything needed to reach that host.

A name is looked up in the hosts loaded from a server list, then opsh's hosts file, then
~/.ssh/config (by the name, and by the inventory address for settings the name's blocks do
not give), and finally taken as a host name itself, as `ssh NAME` would.
"""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from opsh.commands.ssh.hosts.inventory import HostEntry, read_hosts_file
from opsh.commands.ssh.hosts.names import check_host, check_user
from opsh.commands.ssh.hosts.sshconf import config_path, known_hosts_path, system_known_hosts
from opsh.commands.ssh.state import ssh_state
from opsh.commands.ssh.transport.hostkeys import known_name
from opsh.shell.errors import UsageError, swallowed

if TYPE_CHECKING:
    from opsh.shell.session import Session

DEFAULT_KEYS = ("id_ed25519", "id_ecdsa", "id_rsa")


@dataclass(frozen=True)
class HostSpec:
    """Where and how to connect; holds no secret."""

    name: str
    hostname: str
    port: int = 22
    user: str = ""
    identity_files: tuple[str, ...] = ()
    identities_only: bool = False
    proxy_jump: str | None = None
    proxy_command: str | None = None
    known_hosts: Path = Path("~/.ssh/known_hosts")
    system_known_hosts: tuple[Path, ...] = ()
    host_key_alias: str | None = None
    hash_known_hosts: bool = False
    strict: str = "ask"  # ask | yes | accept-new
    batch: bool = False
    password_auth: bool = True
    pubkey_auth: bool = True
    connect_timeout: float | None = None
    extra: dict[str, Any] = field(default_factory=dict, compare=False, hash=False)

    @property
    def pool_key(self) -> tuple[str, str, int, str, str]:
        return (self.user, self.hostname, self.port, self.proxy_jump or "", self.proxy_command or "")

    @property
    def endpoint(self) -> str:
        return f"{self.user}@{self.hostname}:{self.port}"

    @property
    def known_as(self) -> str:
        """The known_hosts name, looked up and written: the HostKeyAlias as written, whatever
        the port (as OpenSSH uses it), else `host` or `[host]:port`; lowercase, as OpenSSH."""
        if self.host_key_alias:
            return self.host_key_alias.lower()
        return known_name(self.hostname, self.port)

    @property
    def known_without_port(self) -> str | None:
        """For a port other than 22 and no HostKeyAlias, the plain host name that OpenSSH also
        tries when nothing is on file for `[host]:port` (a key found there is trusted; nothing
        is ever written under it)."""
        if self.host_key_alias or self.port == 22:
            return None
        return self.hostname.lower()


def inventory(session: Session) -> dict[str, HostEntry]:
    """Hosts of the hosts file, then this session's server-list hosts (which win)."""
    entries = read_hosts_file(session.config.paths.hosts_file)
    entries.update(ssh_state(session).loaded)
    return entries


def resolve(
    session: Session,
    name: str,
    user: str | None = None,
    port: int | None = None,
    depth: int = 0,
    entries: dict[str, HostEntry] | None = None,
) -> HostSpec:
    """The HostSpec for `name` (`user` and `port` given on the line win); `entries` is the
    inventory when the caller resolves many names (read once)."""
    check_host(name)  # before the ssh config's tokens (%h in a ProxyCommand) can see it
    if user is not None:
        check_user(user)
    if depth > 8:
        raise UsageError(f"ProxyJump chain through {name!r} is too long (a loop in the ssh config?)")
    state = ssh_state(session)
    config = state.config.get(config_path(session))
    entry = (entries if entries is not None else inventory(session)).get(name)
    options: dict[str, Any] = dict(config.lookup(name))
    if entry is not None and entry.address and entry.address != name:
        check_host(entry.address, f"address of {name}")
        by_address = config.lookup(entry.address)
        options = {**dict(by_address), **{k: v for k, v in options.items() if k != "hostname"}}
        options["hostname"] = entry.address
    hostname = check_host(options.get("hostname") or name)
    proxy_jump = _none_is_none(options.get("proxyjump"))
    jumps = [_resolve_hop(session, hop, depth, entries) for hop in proxy_jump.split(",")] if proxy_jump else []
    return HostSpec(
        name=name,
        hostname=hostname,
        port=port or (entry.port if entry and entry.port else None) or _int(options.get("port"), 22),
        user=check_user(user or (entry.user if entry else None) or options.get("user") or _local_user()),
        identity_files=tuple(_identity_files(session, options)),
        identities_only=_yes(options.get("identitiesonly")),
        proxy_jump=proxy_jump,
        proxy_command=_none_is_none(options.get("proxycommand")),
        known_hosts=_known_hosts(session, options),
        system_known_hosts=tuple(system_known_hosts(session)),
        host_key_alias=options.get("hostkeyalias"),
        hash_known_hosts=_yes(options.get("hashknownhosts")),
        strict=_strictness(options.get("stricthostkeychecking")),
        batch=_yes(options.get("batchmode")),
        password_auth=not _no(options.get("passwordauthentication")),
        pubkey_auth=not _no(options.get("pubkeyauthentication")),
        connect_timeout=float(options["connecttimeout"]) if str(options.get("connecttimeout", "")).isdigit() else None,
        extra={"jumps": tuple(jumps)},
    )


def _resolve_hop(session: Session, hop: str, depth: int, entries: dict[str, HostEntry] | None) -> HostSpec:
    """One ProxyJump hop: `[user@]host[:port]` or `ssh://[user@]host[:port]`."""
    hop = hop.strip().removeprefix("ssh://")
    user, at, rest = hop.rpartition("@")
    host, port = rest, None
    if rest.startswith("["):
        host, _, tail = rest[1:].partition("]")
        port = int(tail[1:]) if tail.startswith(":") and tail[1:].isdigit() else None
    elif rest.count(":") == 1:
        host, _, text = rest.partition(":")
        port = int(text) if text.isdigit() else None
    return resolve(session, host, user if at else None, port, depth + 1, entries)


def _identity_files(session: Session, options: dict[str, Any]) -> list[str]:
    """IdentityFile entries, else the default key names next to the ssh config (~/.ssh)."""
    given = options.get("identityfile")
    if given:
        return [os.path.expanduser(p) for p in given]
    base = config_path(session).parent
    return [str(base / name) for name in DEFAULT_KEYS if (base / name).exists()]


def _known_hosts(session: Session, options: dict[str, Any]) -> Path:
    if os.environ.get("OPSH_KNOWN_HOSTS"):
        return known_hosts_path(session)
    configured = options.get("userknownhostsfile")
    if configured:
        first = configured.split()[0] if isinstance(configured, str) else configured[0]
        return Path(os.path.expanduser(first))
    return known_hosts_path(session)


def _strictness(value: str | None) -> str:
    value = (value or "ask").lower()
    if value in ("yes", "true"):
        return "yes"
    if value in ("accept-new", "no", "off", "false"):
        return "accept-new"
    return "ask"


def _int(value: Any, default: int) -> int:
    if value is None:
        return default
    try:
        return int(value)
    except (TypeError, ValueError):
        swallowed(f"reading the number {value!r} from the ssh config (default {default} used)")
        return default


def _yes(value: Any) -> bool:
    return str(value).lower() in ("yes", "true", "on")


def _no(value: Any) -> bool:
    return str(value).lower() in ("no", "false", "off")


def _none_is_none(value: Any) -> str | None:
    if not value or str(value).lower() == "none":
        return None
    return str(value)


def _local_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        swallowed("looking up the local user name (root assumed)")
        return "root"
