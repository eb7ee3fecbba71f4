"""`hosts`: the inventory (opsh's hosts file, server lists loaded this session, ssh config).

Only the specs live here; ops.py does the work and is imported when a subcommand runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from opsh.shell.spec import Args, Command, Kind, arg, opt

if TYPE_CHECKING:
    from opsh.shell.result import Result
    from opsh.shell.session import Session


class HostsList(Command):
    name = "list"
    area = "ssh"
    summary = "list inventory hosts, or what a target expression resolves to"
    params = (arg("targets", Kind.TARGETS, required=False, help="a target expression to resolve"),)
    examples = ("hosts", "hosts list @web", "hosts list web[01-03]")

    def run(self, session: Session, args: Args) -> Result:
        from opsh.commands.ssh.hosts.ops import list_hosts

        return list_hosts(session, args.targets)


class HostsAdd(Command):
    name = "add"
    area = "ssh"
    summary = "add hosts to the hosts file (or update them)"
    params = (
        arg("name", Kind.TEXT, help="a name, or a range like web[01-03]"),
        arg("address", Kind.TEXT, required=False, help="address (a matching range for a range of names)"),
        opt("-p", "--port", kind=Kind.INT, help="SSH port"),
        opt("-u", "--user", kind=Kind.TEXT, help="login user"),
        opt("-g", "--group", kind=Kind.TEXT, multiple=True, help="add to this group (repeatable)"),
    )
    examples = (
        "hosts add web1 10.0.0.11 --user deploy --group web",
        "hosts add web[01-03] 10.0.1.[11-13] --group web",
        "hosts add db1 --port 2222",
    )

    def run(self, session: Session, args: Args) -> Result:
        from opsh.commands.ssh.hosts.ops import add_hosts

        return add_hosts(session, args)


class HostsRm(Command):
    name = "rm"
    area = "ssh"
    aliases = ("remove",)
    summary = "remove hosts from the hosts file"
    params = (arg("names", Kind.HOST, multiple=True, help="names or ranges"),)
    examples = ("hosts rm web1", "hosts rm web[01-03]")

    def run(self, session: Session, args: Args) -> Result:
        from opsh.commands.ssh.hosts.ops import remove_hosts

        return remove_hosts(session, args.names)


class HostsLoad(Command):
    name = "load"
    area = "ssh"
    summary = "load a `host port user password` server list for this session"
    params = (
        arg("file", Kind.PATH, help="one host per line: host [port [user [password]]]"),
        opt("-g", "--group", kind=Kind.TEXT, help="group name (default: the file name without extension)"),
        opt("--save", help="also add the hosts (never the passwords) to the hosts file"),
    )
    examples = ("hosts load serverlist.conf", "hosts load servers.txt --group lab", "run @serverlist -- uptime")

    def run(self, session: Session, args: Args) -> Result:
        from opsh.commands.ssh.hosts.ops import load_server_list

        return load_server_list(session, args)


class HostsGroups(Command):
    name = "groups"
    area = "ssh"
    summary = "groups and their hosts (config [groups], hosts file, loaded lists)"
    examples = ("hosts groups",)

    def run(self, session: Session, args: Args) -> Result:
        from opsh.commands.ssh.hosts.ops import list_groups

        return list_groups(session)


class HostsShow(Command):
    name = "show"
    area = "ssh"
    summary = "everything opsh will use to reach one host (after ~/.ssh/config)"
    params = (arg("host", Kind.HOST),)
    examples = ("hosts show web1",)

    def run(self, session: Session, args: Args) -> Result:
        from opsh.commands.ssh.hosts.ops import show_host

        return show_host(session, args.host)


class HostsCommand(Command):
    name = "hosts"
    area = "ssh"
    summary = "the SSH inventory: list, add, rm, load a server list, groups, show"
    subcommands = (HostsList, HostsAdd, HostsRm, HostsLoad, HostsGroups, HostsShow)
    params = (arg("targets", Kind.TARGETS, required=False, help="list what this target expression resolves to"),)
    examples = (
        "hosts",
        "hosts @web",
        "hosts add web[01-03] 10.0.1.[11-13] --user deploy --group web",
        "hosts groups",
        "hosts load serverlist.conf",
        "hosts show web01",
    )

    def run(self, session: Session, args: Args) -> Result:
        from opsh.commands.ssh.hosts.ops import list_hosts

        return list_hosts(session, args.targets)
