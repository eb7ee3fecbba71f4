"""The command line a leaf runs when the command comes through a gateway.

A direct run stops a remote command with OpenSSH's `signal` request; a gateway's ssh client
cannot send one, and when the gateway ends its ssh (Ctrl-C here, a timeout there) sshd only
closes the session: a command without a terminal would go on running. So the leaf's login
shell first starts a watcher on the session's stdin, which stays open for as long as the
gateway's ssh lives (ClusterShell never closes it). When it closes while the command still
runs, the watcher sends TERM to the command's process group, and KILL half a second later,
as a direct run's Ctrl-C does. Then the login shell writes a start mark on stdout and on
stderr (so the head can tell "ran" from "never reached", whatever ssh printed before) and
replaces itself with `$SHELL -c COMMAND`, stdin at end of file as in a direct run. The exit
status is the command's own: nothing is left in between.
"""

from __future__ import annotations

import secrets
import shlex

_WATCHER = (
    "(trap '' TERM; while read -r _; do :; done; kill -0 $$ 2>/dev/null"
    " && { kill -TERM 0; sleep 0.5; kill -KILL 0; }) <&3 >/dev/null 2>&1 &"
)


def new_mark() -> str:
    """A start mark no command prints by chance."""
    return f"opsh-leaf-start-{secrets.token_hex(8)}"


def wrapped(command: str, mark: str) -> str:
    """The line the leaf's login shell runs (the same shell that runs a direct command)."""
    return (
        f"exec 3<&0; {_WATCHER} echo {mark}; echo {mark} >&2; "
        f'exec "${{SHELL:-/bin/sh}}" -c {shlex.quote(command)} </dev/null 3<&-'
    )
