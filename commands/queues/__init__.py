"""Work queues with the study sheet's verbs (put, take, ack/finish, release/abort, peek...).

    connect tarantool://user@host:3301      the tarantool `queue` module's API
    connect redisq://[user@]host:6379/0     a reliable queue on Redis lists (see backends/redisq.py)
    connect kestrel://host:22133            Kestrel's memcache protocol, reliable reads

The verbs are the same in each mode (syntax.py); what a backend cannot do says so. The parts:
handle.py (the mode: ids, verbs to backend calls), syntax.py (the verbs and how a line binds
to them), complete.py (completer and lexer), guard.py (read-only handles), render.py (tasks
and stats as Results), help.py (`help`), waiting.py (takes that Ctrl-C can stop), errors.py
(how the tarantool driver's exceptions read; imported here so that describing one finds it),
and one module per server in backends/, each with its own `connect`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from opsh.commands.queues.errors import ERRORS as ERRORS

if TYPE_CHECKING:
    from opsh.shell.handles import ConnectRequest, Handle
    from opsh.shell.session import Session


def connect_tarantool(session: Session, request: ConnectRequest) -> Handle:
    from opsh.commands.queues.backends.tarantool import connect

    return connect(session, request)


def connect_redisq(session: Session, request: ConnectRequest) -> Handle:
    from opsh.commands.queues.backends.redisq import connect

    return connect(session, request)


def connect_kestrel(session: Session, request: ConnectRequest) -> Handle:
    from opsh.commands.queues.backends.kestrel import connect

    return connect(session, request)


CONNECTORS = {"tarantool": connect_tarantool, "redisq": connect_redisq, "kestrel": connect_kestrel}
COMMANDS = ()
