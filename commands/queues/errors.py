"""How the Tarantool driver's exceptions read: `tarantool 32: eval:1: boom`, the server's error
code and text, not the args tuple. (The Redis-backed queues' driver errors read through
redis/errors.py; Kestrel speaks over a plain socket, whose errors the core words.)

Found by the core's describe() (shell/errors.py) by the module that defines the exception's
class; nothing here imports the driver.
"""

from __future__ import annotations

from opsh.shell.errors import Described, ErrorTable


def _tarantool(exc: BaseException) -> Described:
    cause = exc.args[0] if exc.args and isinstance(exc.args[0], BaseException) else exc
    args = cause.args
    if len(args) >= 2 and isinstance(args[0], int):
        return Described.failure(f"tarantool {args[0]}: {args[1]}")
    return Described.failure(f"tarantool: {args[0] if args else type(exc).__name__}")


ERRORS: ErrorTable = {"tarantool": _tarantool}
