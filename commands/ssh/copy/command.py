"""`copy SRC... DST`: scp-style copies over SFTP, pushed to many hosts or pulled from them (the
spec; the work is in copying.py and transfer.py, imported when the command runs)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from opsh.shell import kinds
from opsh.shell.spec import Args, Command, Kind, Param, arg, opt

if TYPE_CHECKING:
    from opsh.shell.session import Session


class CopyCommand(Command):
    name = "copy"
    aliases = ("scp",)
    area = "ssh"
    summary = "copy files to or from hosts over SFTP (HOST:PATH, many hosts for a push), with progress"
    usage = (
        "copy [-r] [-L] [-p] [--verify] [--sudo [--owner USER[:GROUP]] [--mode MODE]] [-f FANOUT] [-t TIMEOUT]"
        " [-x EXCLUDE] [--accept-new] SRC... DST"
    )
    params = (
        arg("paths", Kind.PATH, multiple=True, metavar="PATH", help="local paths or HOSTS:PATH"),
        opt("-r", "--recursive", help="copy directories with their contents (symlinks stay symlinks)"),
        opt("-L", "--dereference", help="copy what symlinks point to instead of the links (as cp -L)"),
        opt("-p", "--preserve", help="keep modification times (modes are always kept)"),
        opt("--verify", help="compare sha256 of every file after the transfer"),
        opt("-f", "--fanout", kind=Kind.INT, help="hosts at a time (default: the fanout setting)"),
        opt("-t", "--timeout", kind=Kind.DURATION, help="connect timeout (default: the timeout setting)"),
        opt("-x", "--exclude", kind=Kind.TARGETS, multiple=True, help="leave these hosts out"),
        opt("--sudo", help="write (or read) as root: staged privately, then installed by sudo, as install does"),
        opt("--owner", kind=Kind.TEXT, metavar="USER[:GROUP]", help="with --sudo: who owns what it installs (root)"),
        opt("--mode", kind=Kind.TEXT, metavar="MODE", help="with --sudo: the installed files' mode, e.g. 0644"),
        opt("--sudo-password-env", kind=Kind.TEXT, metavar="VAR", help="with --sudo: the password from VAR (scripts)"),
        opt("--accept-new", help="trust unknown host keys (changed keys stay refused)"),
    )
    examples = (
        "copy app.tgz web[1-3]:/tmp/",
        "copy web1:/etc/hosts ./",
        "copy -r conf/ @web:/etc/myapp/ --verify",
        "copy @web:/var/log/syslog logs/      # one folder per host",
        "copy a.txt b.txt db1:backup/",
        "copy nginx.conf @web:/etc/nginx/ --sudo --mode 0644",
        "copy db1:/etc/shadow ./ --sudo",
    )
    implementation = "opsh.commands.ssh.copy.copying:copy"

    def complete(self, session: Session, args: Args, param: Param, prefix: str) -> Iterable[Any] | None:
        if param.name != "paths" or ":" in prefix:
            return []
        from opsh.commands.ssh.hosts.complete import hosts_completer

        local = kinds.path_candidates(session, prefix)
        hosts = [(f"{name}:", meta) for name, meta in hosts_completer(session, prefix)]
        return [*local, *hosts]
