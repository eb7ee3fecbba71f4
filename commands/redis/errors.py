"""How redis-py's exceptions read: `redis: WRONGTYPE Operation against a key holding the wrong
kind of value`, the server's reply as it is.

Found by the core's describe() (shell/errors.py) by the module that defines the exception's
class; nothing here imports the driver. The queue backend over Redis (queues/backends/redisq.py)
reads its driver errors through this table too.
"""

from __future__ import annotations

from opsh.shell.errors import Described, ErrorTable, in_own_words


def _redis(exc: BaseException) -> Described:
    return in_own_words("redis", exc)


ERRORS: ErrorTable = {"redis": _redis}
