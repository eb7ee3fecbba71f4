"""`run TARGETS -- COMMAND`: one command on many hosts, in parallel (the spec; the work is in
run.py, imported when the command runs so that startup stays fast)."""

from __future__ import annotations

from opsh.shell.argv import FORMATS
from opsh.shell.spec import Command, Kind, arg, opt


class RunCommand(Command):
    name = "run"
    area = "ssh"
    summary = "run a command on many hosts in parallel: streamed or grouped output, then a summary"
    params = (
        arg("targets", Kind.TARGETS, help="web1, web[01-20], db[1,3,5-7], @group, @failed, @ok, a,b,!c, local"),
        arg("command", Kind.REST, help="the remote command (after --), run by the login shell"),
        opt("-f", "--fanout", kind=Kind.INT, help="hosts at a time (default: the fanout setting)"),
        opt("-t", "--timeout", kind=Kind.DURATION, help="limit for connecting and for the command (default: timeout)"),
        opt("-x", "--exclude", kind=Kind.TARGETS, multiple=True, help="leave these hosts out"),
        opt("-g", "--group", help="gather output: identical results shown once with their hosts"),
        opt(
            "--sudo",
            help="run COMMAND as root through sudo; its password is asked once, and only if a host's sudo wants one",
        ),
        opt("-u", "--user", kind=Kind.TEXT, metavar="NAME", help="with --sudo: as this user instead of root"),
        opt("--sudo-password-env", kind=Kind.TEXT, metavar="VAR", help="with --sudo: the password from VAR (scripts)"),
        opt("--accept-new", help="trust unknown host keys (appended to known_hosts; changed keys stay refused)"),
        opt("--via", kind=Kind.TARGETS, metavar="GATEWAYS", help="through these ClusterShell gateways (tree mode)"),
        opt(
            "--format",
            kind=Kind.CHOICE,
            choices=FORMATS,
            help="structured formats (json, csv, vertical...) give one record per host",
        ),
    )
    examples = (
        "run web[01-20] -- uptime",
        "run @web -x web03 -- systemctl is-active nginx",
        "run @all --group -- cat /etc/debian_version",
        "run @failed -- uptime",
        "run @web --sudo -- systemctl restart nginx",
        "run db[1-3] --sudo -u postgres -- psql -c 'select 1'",
        "run db[1-3] --timeout 5s --format json -- df -h /",
        "run local,web1 -- date",
        "run @racks --via bastion[1-2] -- uptime",
    )
    implementation = "opsh.commands.ssh.exec.run:run"
