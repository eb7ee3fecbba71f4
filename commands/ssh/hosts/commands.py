"""`hosts`: the inventory (opsh's hosts file, server lists loaded this session, ssh config).

Only the specs live here, loaded at startup; ops.py does the work, imported when a subcommand
runs.
"""

from __future__ import annotations

from opsh.shell.spec import Command, Kind, arg, opt


class HostsList(Command):
    name = "list"
    area = "ssh"
    summary = "list inventory hosts, or what a target expression resolves to"
    params = (arg("targets", Kind.TARGETS, required=False, help="a target expression to resolve"),)
    examples = ("hosts", "hosts list @web", "hosts list web[01-03]")
    implementation = "opsh.commands.ssh.hosts.ops:list_hosts"


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
    implementation = "opsh.commands.ssh.hosts.ops:add_hosts"


class HostsRm(Command):
    name = "rm"
    area = "ssh"
    aliases = ("remove",)
    summary = "remove hosts from the hosts file"
    params = (arg("names", Kind.HOST, multiple=True, help="names or ranges"),)
    examples = ("hosts rm web1", "hosts rm web[01-03]")
    implementation = "opsh.commands.ssh.hosts.ops:remove_hosts"


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
    implementation = "opsh.commands.ssh.hosts.ops:load_server_list"


class HostsGroups(Command):
    name = "groups"
    area = "ssh"
    summary = "groups and their hosts (config [groups], hosts file, loaded lists)"
    examples = ("hosts groups",)
    implementation = "opsh.commands.ssh.hosts.ops:list_groups"


class HostsShow(Command):
    name = "show"
    area = "ssh"
    summary = "everything opsh will use to reach one host (after ~/.ssh/config)"
    params = (arg("host", Kind.HOST),)
    examples = ("hosts show web1",)
    implementation = "opsh.commands.ssh.hosts.ops:show_host"


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
    implementation = "opsh.commands.ssh.hosts.ops:list_hosts"
