"""What the `hosts` subcommands do (the specs are in commands.py)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from opsh.commands.shared.nodeset import expand, fold, natural_key
from opsh.commands.shared.paths import read_text
from opsh.commands.shared.targets import split_label
from opsh.commands.ssh.hosts import lookup
from opsh.commands.ssh.hosts.hostspec import inventory, resolve
from opsh.commands.ssh.hosts.inventory import (
    HostEntry,
    ServerListLine,
    check_name,
    parse_server_list,
    read_hosts_file,
    server_list_names,
    write_hosts_file,
)
from opsh.commands.ssh.hosts.names import check_host, check_user
from opsh.commands.ssh.hosts.sshconf import concrete_hosts, config_path
from opsh.commands.ssh.state import ssh_state
from opsh.shell.errors import NotFound, UsageError, describe, swallowed
from opsh.shell.result import Result, StyledLine
from opsh.shell.spec import Args

if TYPE_CHECKING:
    from pathlib import Path

    from opsh.shell.session import Session

HEADERS = ["name", "address", "port", "user", "groups", "source"]


def list_hosts(session: Session, args: Args) -> Result:
    """`hosts [EXPR]`: the whole inventory, or what one target expression resolves to."""
    member_of = _memberships(session)
    if args.targets:
        return Result.table(HEADERS, _resolved_rows(session, args.targets, member_of))
    rows = _inventory_rows(session, member_of)
    if not rows:
        return _no_hosts_yet(session)
    return Result.table(HEADERS, rows, status=f"{len(rows)} host{'s' if len(rows) != 1 else ''}")


def _no_hosts_yet(session: Session) -> Result:
    """A fresh install: say where hosts come from rather than draw an empty table (JSON and
    the other record formats still get their empty list)."""
    from opsh.shell import formats

    hint = (
        "no hosts yet: `hosts add web1 10.0.0.11 --user deploy`, `hosts load serverlist.conf`"
        f" (host port user password), or Host entries in {config_path(session)}"
    )
    result = Result.table(HEADERS, [], status="0 hosts")

    def present(fmt: str, sink: Any) -> str | None:
        found = formats.find(fmt)
        return None if found is not None and found.structured else hint

    result.present = present
    return result


def _memberships(session: Session) -> dict[str, list[str]]:
    """Host name -> the groups it is in (config [groups], the hosts file, loaded lists)."""
    out: dict[str, list[str]] = {}
    for group in lookup.groups(session):
        try:
            members = lookup.targets(session, f"@{group}")
        except Exception:  # noqa: BLE001 - a broken group is shown by `hosts groups`
            swallowed(f"resolving group {group} for the groups column")
            continue
        for member in members:
            out.setdefault(split_label(member)[1], []).append(group)
    return out


def _resolved_rows(session: Session, expression: str, member_of: dict[str, list[str]]) -> list[list[Any]]:
    labels = lookup.targets(session, expression)
    rows = [
        [label, spec.hostname, spec.port, spec.user, _groups(member_of, spec.name), _source(session, spec.name)]
        for label, spec in lookup.specs_for(session, labels).items()
    ]
    if "local" in labels:
        rows.append(["local", "", None, "", "", "this machine"])
    return rows


def _groups(member_of: dict[str, list[str]], name: str) -> str:
    return ",".join(dict.fromkeys(member_of.get(name, [])))


def _inventory_rows(session: Session, member_of: dict[str, list[str]]) -> list[list[Any]]:
    """Inventory hosts by name, then ssh config aliases the inventory does not name."""
    rows = [
        [e.name, e.address or "", e.port, e.user or "", _groups(member_of, e.name), e.source]
        for e in sorted(inventory(session).values(), key=lambda e: natural_key(e.name))
    ]
    seen = {row[0] for row in rows}
    config = ssh_state(session).config.get(config_path(session))
    for alias in concrete_hosts(config):
        if alias in seen:
            continue
        found = config.lookup(alias)
        port = found.get("port")
        user = found.get("user", "")
        address = found.get("hostname", alias)
        rows.append([alias, address, int(port) if port else None, user, _groups(member_of, alias), "ssh config"])
    return rows


def _source(session: Session, name: str) -> str:
    entry = inventory(session).get(name)
    if entry is not None:
        return entry.source
    config = ssh_state(session).config.get(config_path(session))
    return "ssh config" if name in concrete_hosts(config) else "name"


def list_groups(session: Session, args: Args) -> Result:
    rows = []
    for name in sorted(lookup.groups(session)):
        try:
            hosts = lookup.targets(session, f"@{name}")
            rows.append([name, fold(hosts), len(hosts)])
        except Exception as exc:  # noqa: BLE001 - a broken group is shown, not fatal
            rows.append([name, f"error: {describe(exc).message}", None])
    return Result.table(["group", "hosts", "count"], rows)


def show_host(session: Session, args: Args) -> Result:
    user, name = split_label(args.host)
    spec = resolve(session, name, user)
    state = ssh_state(session)
    known = state.known_hosts(spec.known_hosts, list(spec.system_known_hosts)).entries_for(spec.known_as)
    pairs: list[tuple[str, Any]] = [
        ("name", spec.name),
        ("hostname", spec.hostname),
        ("port", spec.port),
        ("user", spec.user),
        ("identity files", ", ".join(spec.identity_files) or "none (agent or password)"),
        ("proxy jump", spec.proxy_jump or ""),
        ("proxy command", spec.proxy_command or ""),
        ("known_hosts", str(spec.known_hosts)),
        ("known as", spec.known_as),
        ("host keys on file", ", ".join(sorted({e.key_type for e in known})) or "none"),
        ("strict host key checking", spec.strict),
        ("password in memory", "yes" if (spec.user, spec.hostname, spec.port) in state.passwords else "no"),
        ("pooled connection", "open" if state.pool.peek(spec.pool_key) else "none"),
    ]
    return Result.mapping(pairs)


def add_hosts(session: Session, args: Args) -> Result:
    """Everything is checked before the file is touched: a bad line changes nothing."""
    names = [check_name(name) for name in expand(args.name)]
    addresses = _addresses(names, args.address)
    if args.port is not None and not 0 < args.port < 65536:
        raise UsageError(f"bad port: {args.port}")
    if args.user is not None:
        check_user(args.user)
    for group in args.group:
        check_name(group, "group name")
    path = session.config.paths.hosts_file
    entries = read_hosts_file(path)
    added = sum(_add_or_update(entries, name, address, args) for name, address in zip(names, addresses, strict=True))
    write_hosts_file(path, entries)
    return Result.empty(status=f"{added} added, {len(names) - added} updated in {path}")


def _addresses(names: list[str], expression: str | None) -> list[str | None]:
    """One address per name: a range as long as the names', or one address for one name."""
    if not expression:
        return [None] * len(names)
    given: list[str | None] = [check_host(address, "address") for address in expand(expression)]
    if len(given) == 1 and len(names) != 1:
        raise UsageError(f"{len(names)} names but one address", "give a matching range, e.g. 10.0.0.[11-13]")
    if len(given) != len(names):
        raise UsageError(f"{len(names)} names but {len(given)} addresses")
    return given


def _add_or_update(entries: dict[str, HostEntry], name: str, address: str | None, args: Args) -> bool:
    """True when `name` is new; an existing entry keeps what the line does not give."""
    entry = entries.get(name)
    if entry is None:
        entries[name] = HostEntry(name, address, args.port, args.user, list(args.group))
        return True
    entry.address = address or entry.address
    entry.port = args.port or entry.port
    entry.user = args.user or entry.user
    entry.groups += [g for g in args.group if g not in entry.groups]
    return False


def remove_hosts(session: Session, args: Args) -> Result:
    path = session.config.paths.hosts_file
    entries = read_hosts_file(path)
    names = [name for expr in args.names for name in expand(expr)]
    missing = [n for n in names if n not in entries]
    if missing:
        raise NotFound(f"not in the hosts file: {fold(missing)}", "`hosts` lists them")
    for name in names:
        del entries[name]
    write_hosts_file(path, entries)
    return Result.empty(status=f"removed {fold(names)}")


def load_server_list(session: Session, args: Args) -> Result:
    """`hosts load FILE`: the hosts become group @NAME for this session; passwords stay in memory."""
    path = session.path(args.file)
    lines = _read_server_list(path, args.file)
    group = args.group or path.stem.replace(" ", "_")
    check_name(group, "group name")
    names = server_list_names(lines)
    _remember(session, names, lines, group, f"loaded from {path.name}")
    if args.save:
        file_entries = read_hosts_file(session.config.paths.hosts_file)
        for name, line in zip(names, lines, strict=True):
            file_entries[name] = HostEntry(name, line.host, line.port, line.user, [group])
        write_hosts_file(session.config.paths.hosts_file, file_entries)
    rows = [
        [n, line.host, line.port, line.user or "", "in memory" if line.password else ""]
        for n, line in zip(names, lines, strict=True)
    ]
    table = Result.table(
        ["name", "address", "port", "user", "password"],
        rows,
        status=f"{len(lines)} hosts loaded as @{group}" + (" and saved to the hosts file" if args.save else ""),
    )
    with_password = sum(1 for line in lines if line.password is not None)
    if not with_password:
        return table
    return Result.of_stream([_password_warning(args.file, with_password)], then=lambda: table)


MAX_SERVER_LIST = 16 * 1024 * 1024  # far beyond any real list; /dev/zero stops here


def _read_server_list(path: Path, shown: str) -> list[ServerListLine]:
    """Only a regular file, read with a bound: a device (/dev/zero) or fifo never fills memory
    (the shared bounded reader: it opens without blocking and refuses anything else)."""
    try:
        text = read_text(path, shown, "server list", limit=MAX_SERVER_LIST)
    except OSError as exc:
        raise NotFound(f"cannot read {shown}: {exc.strerror}") from None
    lines = parse_server_list(text, shown)
    if not lines:
        raise UsageError(f"{shown}: no hosts in it", "one per line: host port user password")
    return lines


def _remember(session: Session, names: list[str], lines: list[ServerListLine], group: str, source: str) -> None:
    state = ssh_state(session)
    for name, line in zip(names, lines, strict=True):
        state.loaded[name] = HostEntry(name, line.host, line.port, line.user, [group], source)
        if line.password is not None:
            state.passwords[(line.user or _default_user(session, name), line.host, line.port)] = line.password
    state.loaded_groups[group] = names


def _password_warning(shown: str, count: int) -> StyledLine:
    return [
        (
            "warn",
            f"warning: {shown} holds {count} plain-text password{'s' if count != 1 else ''}; "
            "opsh keeps them in memory for this session only (never on disk). "
            "Prefer SSH keys or an agent, or let opsh prompt.",
        )
    ]


def _default_user(session: Session, name: str) -> str:
    return resolve(session, name).user
