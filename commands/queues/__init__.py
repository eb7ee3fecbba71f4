"""Work queues with the study sheet's verbs (put, take, ack/finish, release/abort, peek...).

    connect tarantool://user@host:3301      the tarantool `queue` module's API
    connect redisq://[user@]host:6379/0     a reliable queue on Redis lists (see redis_backend.py)
    connect kestrel://host:22133            Kestrel's memcache protocol, reliable reads

The verbs are the same in each mode (verbs.py); what a backend cannot do says so.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from opsh.shell.errors import AuthError, ConnectError

if TYPE_CHECKING:
    from opsh.commands.queues.handle import QueueHandle
    from opsh.shell.handles import ConnectRequest
    from opsh.shell.session import Session


def connect_tarantool(session: Session, request: ConnectRequest) -> QueueHandle:
    from opsh.commands.queues.handle import QueueHandle
    from opsh.commands.queues.tnt_backend import DEFAULT_PORT, TarantoolQueue

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


def connect_redisq(session: Session, request: ConnectRequest) -> QueueHandle:
    """Connect without a password first; ask for one only when Redis says it needs it."""
    import redis

    from opsh.commands.queues.handle import QueueHandle
    from opsh.commands.queues.redis_backend import DEFAULT_PORT, RedisQueue

    port = request.port(DEFAULT_PORT)
    db = request.path or "0"
    if not db.isdigit():
        raise ConnectError(f"bad redis database {db!r}", "write redisq://host:6379/0")
    password = request.password
    for attempt in range(2):
        client = _redis_client(request, port, int(db), password, session.timeout)
        try:
            client.ping()
            break
        except redis.AuthenticationError:
            client.close()
            if attempt or password is not None:
                raise AuthError(f"redis refused the password for {request.host}:{port}") from None
            password = request.get_password()
        except redis.ConnectionError as exc:
            client.close()
            raise ConnectError(f"cannot reach redis at {request.host}:{port}", str(exc).split(". ")[0]) from None
    endpoint = f"{request.host}:{port}/{db}"
    return QueueHandle(request.name, endpoint, RedisQueue(client), readonly=request.readonly, tag=request.tag)


def _redis_client(request: ConnectRequest, port: int, db: int, password: str | None, timeout: float) -> Any:
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    return redis.Redis(
        host=request.host,
        port=port,
        db=db,
        username=request.user,
        password=password,
        socket_timeout=timeout + 5,
        socket_connect_timeout=timeout,
        decode_responses=True,
        protocol=2,  # RESP2: a missing password reads "Authentication required", not a HELLO error
        retry=Retry(NoBackoff(), 0),
    )


def connect_kestrel(session: Session, request: ConnectRequest) -> QueueHandle:
    from opsh.commands.queues.handle import QueueHandle
    from opsh.commands.queues.kestrel_backend import DEFAULT_PORT, KestrelQueue

    port = request.port(DEFAULT_PORT)
    backend = KestrelQueue(request.host, port, session.timeout)
    backend.ping()
    return QueueHandle(request.name, f"{request.host}:{port}", backend, readonly=request.readonly, tag=request.tag)


CONNECTORS = {"tarantool": connect_tarantool, "redisq": connect_redisq, "kestrel": connect_kestrel}
COMMANDS = ()
