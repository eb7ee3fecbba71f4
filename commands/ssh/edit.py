"""`edit [HOST:]PATH`: a file (a host's, or a local one) in the user's editor, written back
only after its diff is shown and accepted (the spec; the work is in editing.py)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from opsh.shell import kinds
from opsh.shell.spec import Args, Command, Kind, Param, arg, opt

if TYPE_CHECKING:
    from opsh.shell.session import Session


class EditCommand(Command):
    name = "edit"
    area = "ssh"
    summary = "edit a host's file (HOST:PATH) or a local one in $VISUAL/$EDITOR: diff, question, atomic write"
    params = (
        arg(
            "file",
            Kind.PATH,
            metavar="[HOST:]PATH",
            help="HOST:PATH (a relative path is in the login directory), or a local path",
        ),
        opt("--sudo", help="read and write it as root on the host (sudo asks its password only if it wants one)"),
        opt("-u", "--user", kind=Kind.TEXT, metavar="NAME", help="with --sudo: as this user instead of root"),
        opt("--no-backup", help="do not keep the previous version as PATH~"),
        opt("--sudo-password-env", kind=Kind.TEXT, metavar="VAR", help="the sudo password from VAR (scripts)"),
        opt("--accept-new", help="trust an unknown host key (changed keys stay refused)"),
    )
    examples = (
        "edit web1:/etc/nginx/nginx.conf",
        "edit db1:/etc/mysql/my.cnf --sudo",
        "edit web1:~/.bashrc --no-backup",
        "edit notes.txt",
        "edit web1:/etc/hosts --sudo --no-backup",
    )
    implementation = "opsh.commands.ssh.editing:edit"

    def complete(self, session: Session, args: Args, param: Param, prefix: str) -> Iterable[Any] | None:
        """As copy completes: local paths, and host names followed by `:`."""
        if param.name != "file" or ":" in prefix:
            return []
        from opsh.commands.ssh.hosts.complete import hosts_completer

        local = kinds.path_candidates(session, prefix)
        hosts = [(f"{name}:", meta) for name, meta in hosts_completer(session, prefix)]
        return [*local, *hosts]
