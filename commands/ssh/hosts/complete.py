"""Tab completion of host names and target expressions (Kind.HOST, Kind.TARGETS).

A broken ssh config or hosts file must never break typing: what can be read is offered.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from opsh.commands.shared.nodeset import natural_key
from opsh.commands.ssh.hosts import lookup
from opsh.commands.ssh.hosts.hostspec import inventory
from opsh.commands.ssh.hosts.sshconf import concrete_hosts, config_path
from opsh.commands.ssh.state import ssh_state
from opsh.shell.errors import swallowed

if TYPE_CHECKING:
    from opsh.shell.session import Session


def hosts_completer(session: Session, prefix: str) -> list[tuple[str, str]]:
    names: dict[str, str] = {}
    for entry in inventory(session).values():
        names.setdefault(entry.name, entry.address or "host")
    try:
        config = ssh_state(session).config.get(config_path(session))
        for alias in concrete_hosts(config):
            names.setdefault(alias, "ssh config")
    except Exception:  # noqa: BLE001 - a broken ssh config must not break completion
        swallowed("reading the ssh config for completion")
    return [(n, meta) for n, meta in sorted(names.items(), key=lambda kv: natural_key(kv[0])) if n.startswith(prefix)]


def targets_completer(session: Session, prefix: str) -> list[tuple[str, str]]:
    """Completes the last item of a comma list: `web1,@w` -> `web1,@web`."""
    cut = max(prefix.rfind(","), prefix.rfind("!"))
    head, word = prefix[: cut + 1], prefix[cut + 1 :]
    out: list[tuple[str, str]] = []
    if word.startswith("@") or not word:
        specials = [("@all", "every inventory host"), ("@failed", "failed last run"), ("@ok", "ok last run")]
        groups = [(f"@{g}", "group") for g in sorted(lookup.groups(session))]
        out += [(head + c, meta) for c, meta in [*groups, *specials] if c.startswith(word or "@")]
    if not word.startswith("@"):
        if "local".startswith(word):
            out.append((head + "local", "this machine"))
        out += [(head + c, meta) for c, meta in hosts_completer(session, word)]
    return out
