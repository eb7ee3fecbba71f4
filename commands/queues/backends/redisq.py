"""A reliable work queue on plain Redis lists (`connect redisq://host:6379/0`).

Keys for tube T:
    q:T             ready jobs: put LPUSHes, take moves from the right end, so first in, first out
    q:T:processing  taken jobs: take is BLMOVE q:T -> q:T:processing, atomic, so a worker that dies
                    after taking leaves its job here instead of losing it
    q:T:buried      jobs set aside by `bury`, back to q:T with `kick`
    q:T:delayed     sorted set of jobs put with --delay (or released with one), score = ready time;
                    due jobs are moved to q:T by a small Lua script before each take/peek/stats
    q:T:seq         the id counter
A job is JSON: {"id": 7, "data": ..., "put_at": epoch, "expires_at": epoch|null}. ack removes it
from processing (LREM), release moves it back to the head of q:T in one MULTI.
"""

from __future__ import annotations

import json
import time
from typing import TYPE_CHECKING, Any

from opsh.commands.queues.backends.base import Backend, Task
from opsh.commands.queues.handle import QueueHandle
from opsh.commands.shared.deadline import no_answer
from opsh.shell.errors import AuthError, ConnectError, NotFound, UsageError, swallowed

if TYPE_CHECKING:
    from opsh.shell.handles import ConnectRequest
    from opsh.shell.session import Session

DEFAULT_PORT = 6379
PREFIX = "q:"
SUFFIXES = (":processing", ":buried", ":delayed", ":seq")
_PROMOTE = """
local due = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'LIMIT', 0, 1000)
for _, job in ipairs(due) do
  redis.call('ZREM', KEYS[1], job)
  redis.call('RPUSH', KEYS[2], job)
end
return #due
"""


def _keys(tube: str) -> dict[str, str]:
    base = PREFIX + tube
    return {
        "ready": base,
        "taken": base + ":processing",
        "buried": base + ":buried",
        "delayed": base + ":delayed",
        "seq": base + ":seq",
    }


class RedisQueue(Backend):
    """Taken jobs wait in the processing list, whoever took them: nothing dies with a
    connection, and a timed take polls (BLMOVE in short waits) so Ctrl-C never strands a job."""

    scheme = "redisq"
    server_name = "redis"

    def __init__(self, client: Any, address: str = "") -> None:
        self.address = address
        self.r = client
        self._promote = client.register_script(_PROMOTE)

    def ping(self) -> None:
        self.r.ping()

    def close(self) -> None:
        try:
            self.r.close()
        except Exception:  # noqa: BLE001 - closing must not fail
            swallowed("closing a redisq connection")

    def reset(self) -> None:
        # redis-py drops a connection whose reply was interrupted; the pool opens a fresh one.
        try:
            self.r.connection_pool.disconnect()
        except Exception:  # noqa: BLE001 - the next command opens a fresh connection anyway
            swallowed("dropping redisq connections after Ctrl-C")

    def connection_errors(self) -> tuple[type[BaseException], ...]:
        import redis

        return (redis.ConnectionError, ConnectionError)

    def drop(self) -> None:
        self.reset()

    # ------------------------------------------------------------ helpers

    def _due(self, tube: str) -> None:
        keys = _keys(tube)
        self._promote(keys=[keys["delayed"], keys["ready"]], args=[time.time()])

    def _task(self, tube: str, raw: str | None, status: str) -> Task | None:
        if raw is None:
            return None
        job = _job(raw)
        extra = {k: v for k, v in job.items() if k not in ("id", "data")}
        return Task(tube, job.get("id"), status, job.get("data"), extra)

    def _find(self, tube: str, task_id: Any) -> tuple[str, str] | None:
        """(which list/set, raw job) holding the job with this id."""
        keys = _keys(tube)
        for where in ("taken", "ready", "buried"):
            for raw in self.r.lrange(keys[where], 0, -1):
                if _job(raw).get("id") == task_id:
                    return where, raw
        for raw in self.r.zrange(keys["delayed"], 0, -1):
            if _job(raw).get("id") == task_id:
                return "delayed", raw
        return None

    def _need(self, tube: str, task_id: Any, allowed: tuple[str, ...], verb: str) -> tuple[str, str]:
        found = self._find(tube, task_id)
        if found is None:
            raise NotFound(f"no task {task_id} in {tube}")
        if found[0] not in allowed:
            raise UsageError(f"{verb}: task {task_id} is {found[0]}, not {' or '.join(allowed)}")
        return found

    # ------------------------------------------------------------ verbs

    def put(self, tube: str, data: Any, delay: float | None, ttl: float | None, pri: int | None) -> Task:
        if pri is not None:
            raise UsageError("redisq queues are plain lists: no --pri", "use one tube per priority")
        keys = _keys(tube)
        now = time.time()
        job = {
            "id": int(self.r.incr(keys["seq"])),
            "data": data,
            "put_at": round(now, 3),
            "expires_at": round(now + (delay or 0) + ttl, 3) if ttl else None,
        }
        raw = json.dumps(job, separators=(",", ":"), ensure_ascii=False, default=str)
        if delay:
            self.r.zadd(keys["delayed"], {raw: now + delay})
            status = "delayed"
        else:
            self.r.lpush(keys["ready"], raw)
            status = "ready"
        return Task(tube, job["id"], status, data, {k: v for k, v in job.items() if k not in ("id", "data")})

    def take(self, tube: str, wait: float) -> Task | None:
        keys = _keys(tube)
        while True:
            self._due(tube)
            if wait > 0:
                raw = self.r.blmove(keys["ready"], keys["taken"], wait, src="RIGHT", dest="LEFT")
            else:
                raw = self.r.lmove(keys["ready"], keys["taken"], src="RIGHT", dest="LEFT")
            if raw is None:
                return None
            expires = _job(raw).get("expires_at")
            if expires is None or expires > time.time():
                return self._task(tube, raw, "taken")
            self.r.lrem(keys["taken"], 1, raw)  # expired before anyone took it: dropped, try the next
            wait = 0

    def ack(self, tube: str, task_id: Any) -> Task:
        _, raw = self._need(tube, task_id, ("taken",), "ack")
        self.r.lrem(_keys(tube)["taken"], 1, raw)
        return self._task(tube, raw, "done")  # type: ignore[return-value]

    def release(self, tube: str, task_id: Any, delay: float | None) -> Task:
        _, raw = self._need(tube, task_id, ("taken",), "release")
        keys = _keys(tube)
        with self.r.pipeline(transaction=True) as pipe:
            pipe.lrem(keys["taken"], 1, raw)
            if delay:
                pipe.zadd(keys["delayed"], {raw: time.time() + delay})
            else:
                pipe.rpush(keys["ready"], raw)  # the right end: taken next
            pipe.execute()
        return self._task(tube, raw, "delayed" if delay else "ready")  # type: ignore[return-value]

    def peek_tube(self, tube: str) -> Task | None:
        self._due(tube)
        return self._task(tube, self.r.lindex(_keys(tube)["ready"], -1), "ready")

    def peek(self, tube: str, task_id: Any) -> Task | None:
        self._due(tube)
        found = self._find(tube, task_id)
        return None if found is None else self._task(tube, found[1], found[0])

    def bury(self, tube: str, task_id: Any) -> Task:
        where, raw = self._need(tube, task_id, ("taken", "ready"), "bury")
        keys = _keys(tube)
        with self.r.pipeline(transaction=True) as pipe:
            pipe.lrem(keys[where], 1, raw)
            pipe.lpush(keys["buried"], raw)
            pipe.execute()
        return self._task(tube, raw, "buried")  # type: ignore[return-value]

    def kick(self, tube: str, count: int) -> int:
        keys = _keys(tube)
        kicked = 0
        while kicked < count and self.r.lmove(keys["buried"], keys["ready"], src="RIGHT", dest="LEFT") is not None:
            kicked += 1
        return kicked

    def delete(self, tube: str, task_id: Any) -> Task:
        where, raw = self._need(tube, task_id, ("taken", "ready", "buried", "delayed"), "delete")
        key = _keys(tube)[where]
        if where == "delayed":
            self.r.zrem(key, raw)
        else:
            self.r.lrem(key, 1, raw)
        return self._task(tube, raw, "done")  # type: ignore[return-value]

    def _counts(self, tube: str) -> dict[str, Any]:
        self._due(tube)
        keys = _keys(tube)
        with self.r.pipeline(transaction=False) as pipe:
            pipe.llen(keys["ready"])
            pipe.llen(keys["taken"])
            pipe.zcard(keys["delayed"])
            pipe.llen(keys["buried"])
            ready, taken, delayed, buried = pipe.execute()
        return {
            "ready": ready,
            "taken": taken,
            "delayed": delayed,
            "buried": buried,
            "total": ready + taken + delayed + buried,
        }

    def stats(self) -> list[dict[str, Any]]:
        return [{"tube": tube, **self._counts(tube)} for tube in self.tubes()]

    def tube_stats(self, tube: str) -> list[tuple[str, Any]]:
        counts = self._counts(tube)
        keys = _keys(tube)
        oldest = self.r.lindex(keys["ready"], -1)
        age = round(time.time() - _job(oldest).get("put_at", time.time()), 3) if oldest else None
        return [*counts.items(), ("last_id", int(self.r.get(keys["seq"]) or 0)), ("oldest_ready_age_s", age)]

    def tubes(self) -> list[str]:
        names = set()
        for key in self.r.scan_iter(match=PREFIX + "*", count=500):
            name = key[len(PREFIX) :]
            for suffix in SUFFIXES:
                if name.endswith(suffix):
                    name = name[: -len(suffix)]
                    break
            names.add(name)
        return sorted(names)


def _job(raw: str) -> dict[str, Any]:
    try:
        job = json.loads(raw)
    except ValueError:
        return {"id": None, "data": raw}
    return job if isinstance(job, dict) else {"id": None, "data": job}


# ---------------------------------------------------------------- connecting


def connect(session: Session, request: ConnectRequest) -> QueueHandle:
    """Connect without a password first; ask for one only when Redis says it needs it."""
    import redis

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
        except redis.TimeoutError:
            client.close()
            raise no_answer("redis", f"{request.host}:{port}", session.timeout, "Redis") from None
    endpoint = f"{request.host}:{port}/{db}"
    backend = RedisQueue(client, f"{request.host}:{port}")
    return QueueHandle(request.name, endpoint, backend, readonly=request.readonly, tag=request.tag)


def _redis_client(request: ConnectRequest, port: int, db: int, password: str | None, timeout: float) -> Any:
    import redis
    from redis.backoff import NoBackoff
    from redis.retry import Retry

    from opsh.commands.shared.redisconn import bounded

    pool = redis.ConnectionPool(
        # The connect as a whole (HELLO, AUTH, SELECT) waits at most `timeout`, not each read.
        connection_class=bounded(redis.Connection),
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
    return redis.Redis.from_pool(pool)
