"""Room for a fleet's connections in the open-files limit.

Every kept connection holds a socket (a command on it costs no more: see exec/remote.py's
Wakeup), so a thousand hosts do not fit the soft limit of 1024 that most systems start a
process with. When a run needs more, the soft limit is raised
to the hard one (what ssh-keyscan does for its many sockets) and the run says so; when the
hard limit is still too low, the connection pool keeps what fits (see pool.py).
"""

from __future__ import annotations

import fcntl
import resource
import socket

# Descriptors for everything else a session holds (the terminal, history, files being copied,
# database handles, the interpreter's own): never given to kept connections.
RESERVE = 64
PER_RUNNING = 3  # a login under way: its socket, and a pipe if sudo's dialog select()s its channel
SELECT_LIMIT = 1024  # select() takes descriptors below this (FD_SETSIZE)


def limits() -> tuple[int, int]:
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    return _finite(soft), _finite(hard)


def _finite(value: int) -> int:
    return 1 << 20 if value == resource.RLIM_INFINITY else value


def make_room(kept: int, running: int) -> str | None:
    """Raise the soft limit when `kept` connections and `running` logins at a time need more
    than it allows; returns what was done, for the run's status line (None: nothing)."""
    soft, hard = limits()
    wanted = needed(kept, running)
    if wanted <= soft or soft >= hard:
        return None
    try:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, resource.getrlimit(resource.RLIMIT_NOFILE)[1]))
    except (ValueError, OSError):
        return None
    return f"open-files limit raised from {soft} to {hard} for {kept} connections"


def needed(kept: int, running: int) -> int:
    return RESERVE + kept + PER_RUNNING * running


def capacity(running: int) -> int:
    """How many connections the pool may keep beside `running` logins under the soft limit."""
    soft, _ = limits()
    return max(0, soft - RESERVE - PER_RUNNING * running)


def lift(sock: socket.socket) -> socket.socket:
    """The same connection on a descriptor above select()'s range (FD_SETSIZE, 1024), when
    the limit allows one: a kept connection is read by paramiko's own thread (recv, which
    polls), never select()ed, and a thousand of them must not push the descriptors that
    are select()ed (a channel's pipe, the terminal, a database socket) past 1023."""
    soft, _ = limits()
    if soft <= SELECT_LIMIT + RESERVE:
        return sock
    try:
        high = fcntl.fcntl(sock.fileno(), fcntl.F_DUPFD_CLOEXEC, SELECT_LIMIT)
    except OSError:
        return sock  # no room up there: the low one does
    lifted = socket.socket(sock.family, sock.type, sock.proto, fileno=high)
    lifted.settimeout(sock.gettimeout())
    sock.close()
    return lifted
