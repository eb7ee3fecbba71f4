"""Tarantool's `queue` module through the `tarantool` client: `queue.tube.NAME:put/take/...`.

Every verb is a call of the module's public API, as tarantool-queue clients do, so any tube
type (fifo, fifottl, utube...) works. `peek TUBE` is the one exception: the API only peeks
by id, so it looks up the first ready task in the tube's space through its `status` index
(the layout the module's drivers share) with a short eval.

A task belongs to the connection's queue session: only it can ack or release the task, and
the server puts it back when the session ends. So the client never reconnects behind opsh's
back (the library would, silently, and the handle would go on believing it holds its tasks):
a lost connection goes through the shell's reconnect path, which says what went back. A timed
`take` is one call that waits on the server; Ctrl-C ends it by dropping the connection.
"""

from __future__ import annotations

import errno
import select
import socket
from functools import cache
from typing import TYPE_CHECKING, Any

from opsh.commands.queues.backends.base import STATUS_WORDS, Backend, Task
from opsh.commands.queues.handle import QueueHandle
from opsh.commands.shared.deadline import Deadline
from opsh.shell.errors import AuthError, ConnectError, NotFound, UsageError, swallowed
from opsh.shell.handles import peer_closed

if TYPE_CHECKING:
    from opsh.shell.handles import ConnectRequest
    from opsh.shell.session import Session

DEFAULT_PORT = 3301
_FIRST_READY = """
local name = ...
local space = box.space[name]
if space == nil or space.index.status == nil or queue.tube[name] == nil then return nil end
local first = space.index.status:select({'r'}, {limit = 1, iterator = 'EQ'})[1]
if first == nil then return nil end
return queue.tube[name]:peek(first[1])
"""
# Tarantool errors that mean "no such task" from the queue API.
_NOT_FOUND_WORDS = ("not found",)
_NOT_TAKEN = "Task was not taken"


@cache
def _connection_class() -> Any:
    """tarantool.Connection that raises NetworkError for a dead connection instead of
    reconnecting silently before the next request (its private `_opt_reconnect`, the check
    `_send_request` runs first; pinned by tests/queues/test_tarantool_queue.py), and whose
    connect (the greeting, the login, the schema) waits at most `connection_timeout` as a whole:
    a Deadline watches the socket `connect_basic` opens (private too: pinned by
    tests/connect/test_slow_handshakes.py)."""
    import tarantool
    from tarantool.error import NetworkError

    class Connection(tarantool.Connection):  # type: ignore[misc]
        _deadline: Deadline | None = None

        def connect(self) -> None:
            with Deadline(self.connection_timeout) as deadline:
                self._deadline = deadline
                try:
                    super().connect()
                except Exception:
                    if deadline.expired:
                        raise NetworkError(f"no answer within {self.connection_timeout:g}s") from None
                    raise
                finally:
                    self._deadline = None

        def connect_basic(self) -> None:
            super().connect_basic()
            if self._deadline is not None:
                self._deadline.watch(self._socket)

        def _opt_reconnect(self) -> None:
            sock = getattr(self, "_socket", None)
            if sock is None or not self.connected:
                raise NetworkError(OSError(errno.ENOTCONN, "not connected"))
            try:
                readable, _, _ = select.select([sock], [], [], 0)
                if not readable:
                    return  # nothing to read: alive and in step
                alive = sock.recv(1, socket.MSG_PEEK)
            except OSError as exc:
                raise NetworkError(exc) from exc
            if not alive:
                raise NetworkError(OSError(errno.ECONNRESET, "the server closed the connection"))

    return Connection


class TarantoolQueue(Backend):
    scheme = "tarantool"
    server_name = "tarantool"
    takes_die_with_connection = True
    waits_on_server = True

    def __init__(self, host: str, port: int, user: str | None, password: str | None, timeout: float) -> None:
        self.settings = (host, port, user, password, timeout)
        self.address = f"{host}:{port}"
        self.timeout = timeout
        self.conn = self._connect()

    def _connect(self) -> Any:
        host, port, user, password, timeout = self.settings
        return _connection_class()(
            host,
            port,
            user=user,
            password=password,
            socket_timeout=timeout,
            connection_timeout=timeout,
            reconnect_max_attempts=0,
        )

    def connection_errors(self) -> tuple[type[BaseException], ...]:
        from tarantool.error import NetworkError

        return (NetworkError, ConnectionError, TimeoutError)

    def connection_stale(self) -> bool:
        return peer_closed(getattr(self.conn, "_socket", None))

    def ping(self) -> None:
        self.conn.ping()

    def close(self) -> None:
        try:
            self.conn.close()
        except Exception:  # noqa: BLE001 - closing must not fail
            swallowed("closing a Tarantool connection")

    def reset(self) -> None:
        self.close()
        self.conn = self._connect()

    # ------------------------------------------------------------ calls

    def _call(self, function: str, *args: Any) -> list[Any]:
        # One list argument: the client takes it as the argument list, so list data is not spread.
        return list(self.conn.call(function, list(args)).data)

    def _tube_call(self, tube: str, method: str, *args: Any) -> Any:
        try:
            data = self._call(f"queue.tube.{tube}:{method}", *args)
        except Exception as exc:
            _raise_queue_error(exc, tube)
            raise
        return data[0] if data else None

    def _task(self, tube: str, raw: Any) -> Task | None:
        if not raw:
            return None
        task_id, status, data = (list(raw) + [None, None, None])[:3]
        return Task(tube, task_id, STATUS_WORDS.get(status, status), data)

    def _need(self, tube: str, raw: Any, task_id: Any) -> Task:
        task = self._task(tube, raw)
        if task is None:
            raise NotFound(f"no task {task_id} in {tube}")
        return task

    # ------------------------------------------------------------ verbs

    def put(self, tube: str, data: Any, delay: float | None, ttl: float | None, pri: int | None) -> Task:
        options = {k: v for k, v in (("delay", delay), ("ttl", ttl), ("pri", pri)) if v is not None}
        raw = self._tube_call(tube, "put", data, options) if options else self._tube_call(tube, "put", data)
        return self._need(tube, raw, "(new)")

    def take(self, tube: str, wait: float) -> Task | None:
        """One call that waits on the server for up to `wait` seconds."""
        self.conn.socket_timeout = self.timeout + wait
        try:
            return self._task(tube, self._tube_call(tube, "take", wait))
        finally:
            self.conn.socket_timeout = self.timeout

    def ack(self, tube: str, task_id: Any) -> Task:
        return self._need(tube, self._tube_call(tube, "ack", task_id), task_id)

    def release(self, tube: str, task_id: Any, delay: float | None) -> Task:
        args = (task_id, {"delay": delay}) if delay else (task_id,)
        return self._need(tube, self._tube_call(tube, "release", *args), task_id)

    def peek(self, tube: str, task_id: Any) -> Task | None:
        return self._task(tube, self._tube_call(tube, "peek", task_id))

    def peek_tube(self, tube: str) -> Task | None:
        self._require_tube(tube)
        data = self.conn.eval(_FIRST_READY, [tube]).data
        return self._task(tube, data[0] if data else None)

    def bury(self, tube: str, task_id: Any) -> Task:
        return self._need(tube, self._tube_call(tube, "bury", task_id), task_id)

    def kick(self, tube: str, count: int) -> int:
        kicked = self._tube_call(tube, "kick", count)
        return int(kicked or 0)

    def delete(self, tube: str, task_id: Any) -> Task:
        return self._need(tube, self._tube_call(tube, "delete", task_id), task_id)

    def _all_statistics(self) -> dict[str, Any]:
        data = self._call("queue.statistics")
        return data[0] if data and isinstance(data[0], dict) else {}

    def stats(self) -> list[dict[str, Any]]:
        rows = []
        for tube, figures in sorted(self._all_statistics().items()):
            tasks = figures.get("tasks", {}) if isinstance(figures, dict) else {}
            rows.append({"tube": tube, **tasks})
        return rows

    def tube_stats(self, tube: str) -> list[tuple[str, Any]]:
        self._require_tube(tube)
        data = self._call("queue.statistics", tube)
        figures = data[0] if data and isinstance(data[0], dict) else {}
        pairs: list[tuple[str, Any]] = []
        for group in ("tasks", "calls"):
            for key, value in sorted((figures.get(group) or {}).items()):
                pairs.append((f"{group}.{key}", value))
        return pairs

    def tubes(self) -> list[str]:
        return sorted(self._all_statistics())

    def _require_tube(self, tube: str) -> None:
        if tube not in self._all_statistics():
            raise NotFound(f"no tube named {tube!r}", "`tubes` lists them")

    # ------------------------------------------------------------ plain tarantool

    def call(self, function: str, args: list[Any]) -> Any:
        return list(self.conn.call(function, list(args)).data)

    def eval(self, lua: str) -> Any:
        return list(self.conn.eval(lua).data)

    def select(self, space: str, key: list[Any], limit: int) -> tuple[list[str], list[list[Any]]]:
        try:
            schema = self.conn.schema.get_space(space)
        except Exception:  # noqa: BLE001 - the client raises SchemaError for an unknown space
            raise NotFound(f"no space named {space!r}") from None
        lookup = key[0] if len(key) == 1 else (key or None)
        rows = [list(t) for t in self.conn.select(space, lookup, limit=limit).data]
        names = [f["name"] for i, f in sorted((k, v) for k, v in (schema.format or {}).items() if isinstance(k, int))]
        width = max((len(r) for r in rows), default=len(names))
        headers = names + [f"f{i + 1}" for i in range(len(names), width)]
        if not headers:
            headers = ["tuple"]
            rows = [[r] for r in rows]
        return headers, [r + [None] * (len(headers) - len(r)) for r in rows]


def _raise_queue_error(exc: Exception, tube: str) -> None:
    """Turn the API's errors about tubes and tasks into NotFound/UsageError with a hint."""
    message = str(exc.args[1]) if len(exc.args) > 1 else str(exc)
    if "queue.tube." in message and ("not defined" in message or "attempt to index" in message):
        raise NotFound(f"no tube named {tube!r}", "`tubes` lists them") from None
    if _NOT_TAKEN in message:
        raise UsageError(
            f"tarantool queue: {_NOT_TAKEN} by this session",
            "only the session that took a task may ack or release it; take it first",
        ) from None
    if any(word in message for word in _NOT_FOUND_WORDS):
        raise UsageError(f"tarantool queue: {message.split(': ', 1)[-1]}") from None


# ---------------------------------------------------------------- connecting


def connect(session: Session, request: ConnectRequest) -> QueueHandle:
    port = request.port(DEFAULT_PORT)
    user = request.user
    password = request.get_password() if user and user != "guest" else None
    try:
        backend = TarantoolQueue(request.host, port, user, password, session.timeout)
    except Exception as exc:
        _tarantool_connect_error(exc, request, port)
        raise
    endpoint = f"{user + '@' if user else ''}{request.host}:{port}"
    return QueueHandle(request.name, endpoint, backend, readonly=request.readonly, tag=request.tag)


def _tarantool_connect_error(exc: Exception, request: ConnectRequest, port: int) -> None:
    from tarantool.error import DatabaseError, NetworkError

    if not isinstance(exc, (NetworkError, DatabaseError)):
        return
    cause = exc.args[0] if exc.args and isinstance(exc.args[0], Exception) else exc
    code = cause.args[0] if cause.args else None
    message = str(cause.args[1]) if len(cause.args) > 1 else str(cause)
    if code in (45, 47) or "password" in message.lower():  # ER_NO_SUCH_USER, ER_CREDS_MISMATCH
        raise AuthError(f"tarantool refused {request.user}@{request.host}:{port}: {message}") from None
    raise ConnectError(f"cannot reach tarantool at {request.host}:{port}", message) from None
