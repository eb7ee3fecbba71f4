"""The one check every host name and user name passes before anything expands it.

ssh config values such as `ProxyCommand sh -c "nc %h %p"` receive the host name verbatim, and
a ProxyCommand runs through a local shell: a name like `x$(touch F)x` would run `touch F` on
this machine. OpenSSH refuses such names ("hostname contains invalid characters"); opsh
refuses the same characters, here, for every way a name arrives (targets of `run` and `copy`,
`connect`, `hosts add`, `hosts load`, ssh config aliases, ProxyJump hops).
"""

from __future__ import annotations

from opsh.shell.errors import UsageError

# OpenSSH's valid_hostname(): these, whitespace and control characters (ssh.c).
_HOST_FORBIDDEN = frozenset("'`\"$\\;&<>|(){}")
# OpenSSH's valid_ruser(): the same shell characters, less `$` and `\` inside.
_USER_FORBIDDEN = frozenset("'`\";&<>|(){}")
_HINT = "as OpenSSH: no quotes, $, `, \\, ;, &, <, >, |, (, ), {, }, spaces or control characters"


def valid_host(name: str) -> bool:
    if not name or name.startswith("-"):
        return False
    return not any(c in _HOST_FORBIDDEN or c.isspace() or not c.isprintable() for c in name)


def valid_user(name: str) -> bool:
    if not name or name.startswith("-") or name.endswith("\\"):
        return False
    return not any(c in _USER_FORBIDDEN or c.isspace() or not c.isprintable() for c in name)


def check_host(name: str, what: str = "host name") -> str:
    """`name`, or UsageError when a shell could read anything in it as syntax."""
    if not valid_host(name):
        raise UsageError(f"{what} {name!r} contains invalid characters", _HINT)
    return name


def check_user(name: str) -> str:
    if not valid_user(name):
        raise UsageError(f"user name {name!r} contains invalid characters", _HINT)
    return name
