"""redis-py connections whose whole connect keeps to one deadline: the Redis mode's and the queue
over Redis's (neither backend may import the other, so this layer lends it to both).

redis-py bounds each socket operation (`socket_connect_timeout`), not the connect: the TLS
handshake and the HELLO, AUTH and SELECT round trips of a server that answers one byte at a time
each stay under it, and once held a connect for 55 s with `set timeout 3`. These classes run
redis-py's connect under a Deadline of `socket_connect_timeout`, watching the socket from the
moment it exists (before TLS), and turn what that ends in into redis-py's own TimeoutError, the
one it raises when connecting times out.

The hooks are private to redis-py (`connect_check_health`, which every way of connecting goes
through; `_connect`, which makes the socket; `_wrap_socket_with_ssl`, which starts TLS):
tests/connect/test_slow_handshakes.py fails if they move.

They also keep a reply that breaks RESP from being a Python error: redis-py's own parser (the
queue's) fails on `$abc` with int()'s ValueError and on deep nesting with RecursionError. Such
a failure is said as the Redis mode's typed parser says it (`protocol error from redis at
HOST:PORT`); redis-py has dropped the connection by then, so the next command opens a new one.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from opsh.commands.shared.deadline import Deadline
from opsh.shell.errors import ConnectionLost


@cache
def bounded(base: type[Any]) -> type[Any]:
    """`base` (redis-py's Connection, SSLConnection or UnixDomainSocketConnection) with its
    whole connect bounded by its `socket_connect_timeout`."""
    from redis.exceptions import InvalidResponse
    from redis.exceptions import TimeoutError as RedisTimeoutError

    class Bounded(base):  # type: ignore[misc]
        _deadline: Deadline | None = None

        def connect_check_health(self, *args: Any, **kwargs: Any) -> None:
            if self._sock:
                return
            with Deadline(self.socket_connect_timeout) as deadline:
                self._deadline = deadline
                try:
                    super().connect_check_health(*args, **kwargs)
                except Exception:
                    if deadline.expired:
                        raise RedisTimeoutError("Timeout connecting to server") from None
                    raise
                finally:
                    self._deadline = None

        def _connect(self) -> Any:
            sock = super()._connect()
            self._watch(sock)
            return sock

        def _wrap_socket_with_ssl(self, sock: Any) -> Any:
            self._watch(sock)
            return super()._wrap_socket_with_ssl(sock)

        def _watch(self, sock: Any) -> None:
            if self._deadline is not None:
                self._deadline.watch(sock)

        def read_response(self, *args: Any, **kwargs: Any) -> Any:
            try:
                return super().read_response(*args, **kwargs)
            except UnicodeDecodeError:
                raise  # a value that is not text (decode_responses): the reply itself was fine
            except (ValueError, IndexError, RecursionError, InvalidResponse) as exc:
                raise _protocol_error(self, exc) from None

    Bounded.__name__ = Bounded.__qualname__ = f"Bounded{base.__name__}"
    return Bounded


def endpoint(connection: Any) -> str:
    """Where a redis-py connection goes: `host:port`, or a Unix socket's path."""
    path = getattr(connection, "path", None)
    return str(path) if path else f"{connection.host}:{connection.port}"


def _protocol_error(conn: Any, exc: BaseException) -> ConnectionLost:
    where = endpoint(conn)
    if isinstance(exc, RecursionError):
        detail = "a reply nested too deep"
    elif isinstance(exc, IndexError):
        detail = "a reply shorter than it says"
    elif not isinstance(exc, ValueError):
        detail = "a reply of no RESP type"
    else:
        detail = "a length or number that is not one"
    return ConnectionLost(
        f"protocol error from redis at {where}: {detail}", "the connection was reset; the next command reconnects"
    )
