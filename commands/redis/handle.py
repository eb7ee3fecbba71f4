"""A Redis connection as an opsh mode: raw commands in, redis-cli-like replies out.

One redis-py Connection (not a pool: a shell has one conversation, and SELECT, AUTH and MULTI
are per connection) with the typed reply parser. Every handshake and read has the `timeout`
setting (only commands that block by design wait longer). A lost connection goes through the
shell's one reconnect path (Handle.connection_guard): the next command reconnects with the
same password and database, and what died with the connection (an open MULTI, WATCHed keys)
is said, never silently replaced. Completion data (the server's command docs, key names) is
gathered on a second connection by a background thread that starts the first time completion
is used (batch runs never start it) and rescans the keys after writes and every few seconds.
"""

from __future__ import annotations

import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from opsh.commands.redis import guard
from opsh.commands.redis.docs import Catalog, builtin_catalog, catalog_from_docs
from opsh.commands.redis.render import cli_text, parse_info, reply_result
from opsh.commands.redis.resp import MalformedReply, ReplyError, Verbatim
from opsh.commands.redis.syntax import command_name, is_blocking, key_text
from opsh.commands.shared.deadline import no_answer
from opsh.shell.errors import AuthError, BackendError, ConnectError, OpshError, UsageError, swallowed
from opsh.shell.fileread import check_regular
from opsh.shell.handles import ConnectRequest, Handle
from opsh.shell.result import Result
from opsh.shell.syntax.words import split_args

if TYPE_CHECKING:
    from prompt_toolkit.completion import Completer
    from prompt_toolkit.lexers import Lexer

    from opsh.shell.background import Background
    from opsh.shell.session import Session

# redis-py's Connection. Its methods carry no annotations, so under mypy --strict every call
# through the declared class is an error; the handle treats the connection as untyped.
Wire = Any

DEFAULT_PORT = 6379
SCAN_LIMIT = 5000  # keys the background SCAN collects for completion, per database
SCAN_SECONDS = 2.0
KEY_CACHE_LIMIT = 50_000
RESCAN_SECONDS = 5.0  # key names are rescanned this often while completion is in use
WAIT_SLICE = 0.25  # a reply waited for without end (BLPOP k 0, SUBSCRIBE) is waited for in slices

_STREAMING = frozenset(("SUBSCRIBE", "PSUBSCRIBE", "SSUBSCRIBE", "MONITOR"))
# A script keeps running on the server after its client goes away: Ctrl-C sends these.
_KILL = {
    "EVAL": ("SCRIPT", "KILL"),
    "EVALSHA": ("SCRIPT", "KILL"),
    "EVAL_RO": ("SCRIPT", "KILL"),
    "EVALSHA_RO": ("SCRIPT", "KILL"),
    "FCALL": ("FUNCTION", "KILL"),
    "FCALL_RO": ("FUNCTION", "KILL"),
}
# RESP2 replies that are field/value pairs (RESP3 sends these as maps).
_PAIRS = frozenset(("HGETALL", "CONFIG GET"))
# Commands that change no key: after any other, the key names for completion are rescanned.
_READS = frozenset(
    "GET MGET STRLEN GETRANGE EXISTS TYPE TTL PTTL EXPIRETIME PEXPIRETIME KEYS SCAN RANDOMKEY DBSIZE "
    "HGET HMGET HGETALL HKEYS HVALS HLEN HEXISTS HSCAN HSTRLEN HRANDFIELD LRANGE LLEN LINDEX LPOS "
    "SMEMBERS SISMEMBER SMISMEMBER SCARD SSCAN SRANDMEMBER SINTER SUNION SDIFF SINTERCARD "
    "ZRANGE ZRANGEBYSCORE ZRANGEBYLEX ZREVRANGE ZREVRANGEBYSCORE ZSCORE ZMSCORE ZRANK ZREVRANK ZCARD "
    "ZCOUNT ZLEXCOUNT ZSCAN ZRANDMEMBER XRANGE XREVRANGE XLEN XREAD XINFO XPENDING PING ECHO INFO "
    "TIME COMMAND CLIENT CONFIG SLOWLOG MEMORY OBJECT DUMP LASTSAVE ROLE LATENCY HELLO AUTH SELECT "
    "MULTI WATCH UNWATCH DISCARD PUBSUB".split()
)
# Bulk-string replies that are text to read, not a value to quote: redis-cli writes them as they
# come, adding no line end of its own (its list of such commands, checked against redis-cli 7.0).
_TEXT_REPLIES = frozenset(
    (
        "INFO",
        "LOLWUT",
        "CLIENT LIST",
        "CLIENT INFO",
        "CLUSTER NODES",
        "CLUSTER INFO",
        "MEMORY DOCTOR",
        "MEMORY MALLOC-STATS",
        "LATENCY DOCTOR",
        "LATENCY GRAPH",
    )
)


@dataclass
class KeyCache:
    """Key names seen in replies or found by SCAN, per database, for completion. Each name
    keeps when it was last seen, so a rescan can drop what it no longer finds without dropping
    what a reply showed meanwhile."""

    by_db: dict[int, dict[str, float]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, db: int, keys: Sequence[Any]) -> None:
        now = time.monotonic()
        with self.lock:
            known = self.by_db.setdefault(db, {})
            for key in keys:
                if len(known) >= KEY_CACHE_LIMIT:
                    return
                known[key_text(key)] = now

    def replace(self, db: int, found: Sequence[Any], since: float) -> None:
        """A rescan that started at `since` found these keys: the rest goes, except names seen
        after the scan started."""
        fresh = {key_text(k): since for k in found}
        with self.lock:
            for key, seen in self.by_db.get(db, {}).items():
                if seen > since:
                    fresh[key] = seen
            self.by_db[db] = fresh

    def discard(self, db: int, keys: Sequence[str]) -> None:
        with self.lock:
            known = self.by_db.get(db, {})
            for key in keys:
                known.pop(key, None)

    def clear(self, db: int | None = None) -> None:
        with self.lock:
            if db is None:
                self.by_db.clear()
            else:
                self.by_db.pop(db, None)

    def matching(self, db: int, prefix: str, limit: int = 200) -> list[str]:
        with self.lock:
            found = [k for k in self.by_db.get(db, ()) if k.startswith(prefix)]
        return sorted(found)[:limit]


class RedisHandle(Handle):
    kind = "redis"
    server_name = "redis"
    meta_commands = ("\\peek", "\\pipe")

    def __init__(
        self,
        request: ConnectRequest,
        conn: Wire,
        opener: Callable[[], Wire],
        raw_setting: Callable[[], str],
        background: Background,
    ) -> None:
        super().__init__(request.name, request.url, readonly=request.readonly, tag=request.tag)
        self.conn = conn
        self.opener = opener  # a new connection with the same settings (for background work)
        self.raw_setting = raw_setting
        unix = request.parts.scheme.lower() in UNIX_SCHEMES
        self.address = request.parts.path if unix else f"{request.host}:{request.port(DEFAULT_PORT)}"
        self.timeout = 30.0
        self.busy = False
        self.inflight = ""  # the command being waited for (what Ctrl-C interrupts)
        self.catalog: Catalog = builtin_catalog()
        self.keys = KeyCache()
        self.flags: dict[str, frozenset[str]] = {}
        self.stopped = threading.Event()
        self.background = background
        # State of this connection that a lost connection takes with it (said, not replaced).
        self.queued: int | None = None  # inside MULTI: how many commands are queued
        self.watching = False
        # Completion data (command docs, key names) loads once completion is first asked for:
        # a batch run never asks, so it starts no loader thread. Writes wake its rescan.
        self.completing = False
        self.rescan = threading.Event()

    # ------------------------------------------------------------ connection

    @property
    def db(self) -> int:
        return int(self.conn.db or 0)

    @property
    def protocol(self) -> int:
        return int(self.conn.protocol or 2)

    def prompt_label(self) -> str:
        """`redis:cache/0`, and `(TX)` inside MULTI as redis-cli shows it."""
        return f"redis:{self.name}/{self.db}" + ("(TX)" if self.queued is not None else "")

    def toolbar(self) -> str:
        return f"db {self.db} · RESP{self.protocol} · docs: {self.catalog.source}"

    def ping(self) -> None:
        self.call(["PING"])

    def state(self) -> str:
        return f"open, db {self.db}"

    def close(self) -> None:
        self.stopped.set()
        self.rescan.set()
        try:
            self.conn.disconnect()
        except Exception:  # noqa: BLE001 - closing must not fail
            swallowed("closing a Redis connection")

    # ------------------------------------------------------------ the one reconnect path

    def connection_errors(self) -> tuple[type[BaseException], ...]:
        from redis.exceptions import ConnectionError as RedisConnectionError

        return (RedisConnectionError, ConnectionError)

    def drop(self) -> list[str]:
        """The connection is gone: so are an open MULTI (nothing queued ran) and WATCHes."""
        try:
            self.conn.disconnect()
        except Exception:  # noqa: BLE001 - the socket is already dead
            swallowed("closing a lost Redis connection")
        self.busy = False
        forgotten = []
        if self.queued is not None:
            count = f"{self.queued} queued command{'s' if self.queued != 1 else ''}"
            forgotten.append(f"the transaction (MULTI) was discarded, its {count} did not run")
        if self.watching:
            forgotten.append("WATCHed keys are no longer watched")
        self.queued, self.watching = None, False
        return forgotten

    def reconnect(self) -> None:
        self.conn.connect()

    def cancel(self) -> None:
        """After Ctrl-C: a reply may still be on its way, so drop the connection; the next
        command reconnects (same password, same database). A Lua script or function would
        keep the server busy without its client, so it is killed from a side connection."""
        if not self.busy:
            return
        self.conn.disconnect()
        self.busy = False
        kill = _KILL.get(self.inflight)
        if kill:
            self.background.start(f"redis-kill-{self.name}", self._kill_script, kill)

    def _kill_script(self, command: tuple[str, str]) -> None:
        """SCRIPT KILL while the server is busy: RESP2 and db 0, since a busy server refuses
        HELLO and SELECT; only AUTH and the kill itself get through."""
        side = self.opener()
        side.protocol, side.client_name, side.db = 2, None, 0
        side.username, side.password = self.conn.username, self.conn.password
        try:
            side.connect()
            side.send_command(*command)
            read_reply(side)
        except Exception:  # noqa: BLE001 - the script may have finished meanwhile
            swallowed(f"sending {' '.join(command)} after Ctrl-C")
        finally:
            side.disconnect()

    @contextmanager
    def exchange(self, what: str) -> Iterator[Wire]:
        """The connection, for one request/reply exchange (`what` names it for cancel()).

        If anything interrupts it (Ctrl-C, a dropped connection) the connection is reset and
        `busy` stays set, so `cancel()` knows what was running. An error reply that escapes
        (refused while reconnecting) becomes a BackendError. A reply that breaks the protocol
        resets the connection and says what died with it (MULTI, WATCH), as a lost one does."""
        conn = self.conn
        self.inflight = what
        try:
            self.refresh_connection()
            self.busy = True
            yield conn
        except ReplyError as exc:
            self.busy = False
            raise BackendError(exc.text) from None
        except MalformedReply as exc:
            raise exc.losing(self.drop()) from None
        except BaseException:
            conn.disconnect()
            raise
        self.busy = False

    def call(self, args: Sequence[Any], *, blocking: bool | None = None) -> Any:
        """Send one command and read its reply; an error reply raises BackendError."""
        with self.exchange(str(args[0]).upper()) as conn:
            conn.send_command(*args)
            self.wait_for_reply(blocking if blocking is not None else is_blocking(args))
            return conn.read_response()

    def call_many(self, commands: Sequence[Sequence[Any]]) -> list[Any]:
        """Pipelined: one round trip; error replies come back as ReplyError values."""
        with self.exchange("PIPELINE") as conn:
            conn.send_packed_command(conn.pack_commands(commands))
            self.wait_for_reply(False)
            return [read_reply(conn) for _ in commands]

    def refresh_connection(self) -> None:
        """Before sending: if the server closed the idle connection meanwhile (its `timeout`, a
        restart, CLIENT KILL), reconnect first so the command is sent once, on a live
        connection, unless state died with it (MULTI, WATCH): then the command is not sent and
        the loss is reported, as redis-cli does."""
        from redis.exceptions import ConnectionError as RedisConnectionError

        self.conn.socket_connect_timeout = self.timeout  # a reconnect keeps to the setting as it is now
        try:
            stale = self.conn.can_read(timeout=0)  # data nobody asked for: out of step
        except RedisConnectionError:
            if self.queued is not None or self.watching:
                raise
            swallowed("checking the idle Redis connection (it is reopened)")
            stale = True
        except ReplyError as exc:  # reconnecting was refused (BUSY script, changed password)
            raise BackendError(f"reconnecting: {exc.text}") from None
        if stale:
            self.conn.disconnect()
        self.set_read_timeout(self.timeout)

    def set_read_timeout(self, seconds: float | None) -> None:
        """The socket timeout for what follows: `timeout` for ordinary replies, none for the
        commands that wait by design (BLPOP, SUBSCRIBE). A new connection starts with it too."""
        self.conn.socket_timeout = seconds
        sock = getattr(self.conn, "_sock", None)  # redis-py's socket (pinned in test_redis_resp.py)
        if sock is not None:
            sock.settimeout(seconds)

    def wait_for_reply(self, blocking: bool) -> None:
        """The read timeout for ordinary commands (`set timeout`); blocking ones wait."""
        if blocking:
            self.set_read_timeout(None)
            self.await_reply()
            return
        if self.conn.can_read(timeout=self.timeout):
            return
        raise OpshError(
            f"no reply from {self.address} within {self.timeout:g}s",
            "the connection was reset; `set timeout` allows longer",
        )

    def await_reply(self) -> None:
        """Wait as long as it takes, in slices. A read blocked in the kernel wakes for Ctrl-C
        only when the signal reaches the main thread itself; Python runs the handler when the
        main thread next runs, which each slice's end makes sure of (as SQL's runner waits)."""
        while not self.conn.can_read(timeout=WAIT_SLICE):
            pass

    # ------------------------------------------------------------ the mode

    def lexer(self) -> Lexer | None:
        from opsh.commands.redis.complete import RedisLexer

        return RedisLexer(self)

    def completer(self, session: Session) -> Completer | None:
        from opsh.commands.redis.complete import RedisCompleter

        self.completion_used(session)
        return RedisCompleter(self, session)

    def execute(self, session: Session, statement: str) -> Result:
        self.timeout = session.timeout
        try:
            return self.dispatch(session, split_args(statement.strip()))
        except ReplyError as exc:  # an error reply while (re)connecting, outside `call`
            raise BackendError(exc.text) from None

    def hint(self, text_before_cursor: str) -> str:
        from opsh.commands.redis.complete import argument_hint

        return argument_hint(self, text_before_cursor)

    def dispatch(self, session: Session, words: list[str]) -> Result:
        """Opsh's own words of the mode (peek, pipe, help), else a Redis command."""
        if not words:
            return Result.empty()
        verb = words[0].lower().lstrip("\\")
        if verb == "peek":
            from opsh.commands.redis.peek import peek

            return peek(self, session, words[1:])
        if verb == "pipe":
            from opsh.commands.redis.pipe import pipe

            return pipe(self, session, words[1:])
        if verb == "help" and not words[0].startswith("\\"):
            from opsh.commands.redis.help import mode_help

            return mode_help(self, words[1:])
        return self.run_command(session, words)

    def run_command(self, session: Session, words: list[str]) -> Result:
        name = command_name(words)
        guard.refuse_writes(self, words)
        guard.confirm(self, session, words)
        if name in _STREAMING:
            return self.stream(words)
        if name == "SHUTDOWN":
            return self.shutdown(words)
        try:
            reply = self.call(words)
        except BackendError:  # an error reply: EXEC and DISCARD still end the transaction
            self.follow_transaction(words, answered=False)
            raise
        self.follow_transaction(words)
        self.learn(words, reply)
        return self.result(name, reply)

    def follow_transaction(self, words: list[str], answered: bool = True) -> None:
        """Whether a MULTI is open (the prompt shows `(TX)`) and how many commands it queued.
        EXEC and DISCARD end it whatever they answer (an EXECABORT too), and unwatch; so does
        RESET. A lost connection ends it too (drop())."""
        name = words[0].upper()
        if name in ("EXEC", "DISCARD", "RESET"):
            self.queued, self.watching = None, False
        elif name == "MULTI" and answered and self.queued is None:
            self.queued = 0
        elif self.queued is not None and answered:
            self.queued += 1

    def side_call(self, args: Sequence[Any]) -> Any:
        """One command on a short-lived second connection: for what opsh asks the server
        itself while a MULTI is open (it would be queued on the handle's own connection)."""
        side = self._side_connection()
        try:
            if int(side.db or 0) != self.db:
                side.send_command("SELECT", self.db)
                read_reply(side)
            side.send_command(*args)
            reply = read_reply(side)
        finally:
            side.disconnect()
        if isinstance(reply, ReplyError):
            raise BackendError(reply.text)
        return reply

    def ask(self, args: Sequence[Any]) -> Any:
        """A question opsh asks the server (DBSIZE before FLUSHDB, COMMAND INFO): on the handle's
        connection, or beside it inside a MULTI."""
        return self.side_call(args) if self.queued is not None else self.call(args)

    def result(self, name: str, reply: Any) -> Result:
        pairs = name in _PAIRS and isinstance(reply, list) and len(reply) % 2 == 0
        if name in _TEXT_REPLIES and isinstance(reply, bytes):
            reply = Verbatim(reply)
        document = parse_info(reply.decode("utf-8", "replace")) if name == "INFO" and reply else None
        return reply_result(reply, self.raw_setting(), document, pairs=pairs)

    def shutdown(self, words: list[str]) -> Result:
        """A successful SHUTDOWN has no reply: the server closes the connection as it goes."""
        from redis.exceptions import ConnectionError as RedisConnectionError

        try:
            reply = self.call(words)
        except RedisConnectionError:
            return Result.of_text(f"the server at {self.address} shut down")
        return self.result("SHUTDOWN", reply)

    def stream(self, words: list[str]) -> Result:
        """SUBSCRIBE / MONITOR: messages as they come, until Ctrl-C (which resets the connection)."""
        conn = self.conn
        self.refresh_connection()
        self.busy = True
        conn.send_command(*words)
        self.set_read_timeout(None)

        def messages() -> Iterator[str]:
            try:
                with self.connection_guard():
                    while True:
                        self.await_reply()
                        yield cli_text(read_reply(conn))
            finally:
                conn.disconnect()
                self.busy = False

        what = "listening" if words[0].upper() != "MONITOR" else "monitoring"
        return Result.of_stream(
            messages(), status=f"stopped {what}", notice=f"Reading messages... (Ctrl-C to stop {what})"
        )

    # ------------------------------------------------------------ bookkeeping

    def learn(self, words: list[str], reply: Any) -> None:
        """Follow state the server changed (db, password) and remember key names."""
        name = command_name(words)
        upper = [w.upper() for w in words[:2]]
        if upper[0] == "SELECT" and len(words) == 2:
            self.conn.db = int(words[1])
            self.rescan.set()
        elif upper[0] == "RESET":
            self.conn.db = 0
            self.watching = False
        elif upper[0] == "WATCH":
            self.watching = True
        elif upper[0] == "UNWATCH":
            self.watching = False
        elif upper[0] == "AUTH" and len(words) in (2, 3):
            self.conn.username = words[1] if len(words) == 3 else self.conn.username
            self.conn.password = words[-1]
        elif name == "CONFIG SET":
            pairs = dict(zip((w.lower() for w in words[2::2]), words[3::2], strict=False))
            if "requirepass" in pairs:
                self.conn.password = pairs["requirepass"] or None
        elif upper[0] in ("FLUSHDB", "FLUSHALL"):
            self.keys.clear(None if upper[0] == "FLUSHALL" else self.db)
        self.learn_keys(words, reply)
        if upper[0] not in _READS:
            self.rescan.set()  # keys may have come or gone: the completion loader looks again

    def learn_keys(self, words: list[str], reply: Any) -> None:
        name = words[0].upper()
        if name == "KEYS" and isinstance(reply, list):
            self.keys.add(self.db, reply)
        elif name == "SCAN" and isinstance(reply, list) and len(reply) == 2 and isinstance(reply[1], list):
            self.keys.add(self.db, reply[1])
        elif name in ("DEL", "UNLINK", "GETDEL"):
            self.keys.discard(self.db, words[1:])
        elif reply is not None:
            doc = self.catalog.get(words)
            if doc is not None:
                args = words[len(doc.name.split()) :]
                self.keys.add(self.db, [args[i] for i in doc.bind(args).key_words][:100])

    # ------------------------------------------------------------ background completion data

    def completion_used(self, session: Session) -> None:
        """The first time completion is asked for, start the loader (command docs, then key
        names rescanned after writes and every RESCAN_SECONDS) through the session's
        Background, so it is joined at exit. Scripts and -c never complete, so never load."""
        if self.completing or self.stopped.is_set():
            return
        self.completing = True
        self.background.start(f"redis-completion-{self.name}", self._load, self.background.stopping)

    def _load(self, stopping: threading.Event) -> None:
        """The loader thread: one side connection, docs first, then a bounded SCAN whenever
        woken (a write, SELECT) or every RESCAN_SECONDS; it only swaps in finished data."""
        side: Wire = None
        docs_loaded = False
        while not self.stopped.is_set() and not stopping.is_set():
            try:
                if side is None:
                    side = self._side_connection()
                if not docs_loaded:
                    self._load_docs(side)
                    docs_loaded = True
                self._scan_keys(side, self.db, stopping)
            except Exception:  # noqa: BLE001 - completion data is best effort, never an error
                swallowed("loading Redis command docs and key names for completion")
                if side is not None:
                    side.disconnect()
                side = None
            self.rescan.wait(RESCAN_SECONDS)
            self.rescan.clear()
        if side is not None:
            side.disconnect()

    def _load_docs(self, side: Wire) -> None:
        side.send_command("COMMAND", "DOCS")
        docs = read_reply(side)
        if not isinstance(docs, ReplyError) and docs:
            self.catalog = catalog_from_docs(docs)

    def _side_connection(self) -> Wire:
        side = self.opener()
        side.username, side.password = self.conn.username, self.conn.password
        side.socket_timeout = side.socket_connect_timeout = min(self.timeout, SCAN_SECONDS * 2)
        side.connect()
        return side

    def _scan_keys(self, side: Wire, db: int, stopping: threading.Event) -> None:
        """A bounded SCAN of `db` (SCAN_LIMIT keys, SCAN_SECONDS at most)."""
        if int(side.db or 0) != db:
            side.send_command("SELECT", db)
            read_reply(side)
            side.db = db
        started = time.monotonic()
        deadline = started + SCAN_SECONDS
        cursor: Any = b"0"
        found: list[Any] = []
        while not stopping.is_set() and time.monotonic() < deadline:
            side.send_command("SCAN", cursor, "COUNT", 1000)
            cursor, keys = read_reply(side)
            found += keys
            if cursor in (b"0", 0) or len(found) >= SCAN_LIMIT:
                break
        self.keys.replace(db, found[:SCAN_LIMIT], started)


def read_reply(conn: Wire) -> Any:
    """One reply, with an error reply returned as a ReplyError value instead of raised."""
    try:
        return conn.read_response()
    except ReplyError as exc:
        return exc


# ---------------------------------------------------------------- connecting


def connect_redis(session: Session, request: ConnectRequest) -> RedisHandle:
    """`connect redis://[user@]host:port/db` or `rediss://...?ca=...`; prompts for a password
    only when the server asks for one."""
    from redis.backoff import NoBackoff
    from redis.connection import Connection, SSLConnection, UnixDomainSocketConnection
    from redis.retry import Retry

    from opsh.commands.redis.resp import TypedParser
    from opsh.commands.shared.redisconn import bounded

    options = dict(request.options)
    unix = request.parts.scheme.lower() in UNIX_SCHEMES
    params: dict[str, Any] = {
        "host": request.host,
        "port": 0 if unix else request.port(DEFAULT_PORT),
        "db": 0 if unix else _db_number(request.path),
        "username": request.user,
        "password": request.password,
        "protocol": _protocol(options.pop("protocol", "3")),
        "parser_class": TypedParser,
        # No retries: a refused password or a dead server must fail at once, clearly.
        "retry": Retry(NoBackoff(), 0),
        # Every handshake (HELLO, AUTH, SELECT) and read waits at most `timeout`: a server that
        # accepts the connection and never answers is an error, not a hang.
        "socket_timeout": session.timeout,
        "socket_connect_timeout": session.timeout,
        "socket_keepalive": True,
        "client_name": "opsh",
        "encoding_errors": "surrogateescape",
    }
    tls = request.parts.scheme.lower() == "rediss"
    if tls:
        params.update(_tls_options(session, options))
    elif unix:
        params = _unix_params(params, request, options)
    elif options:
        raise UsageError(f"unknown option(s) for redis://: {', '.join(sorted(options))}", "protocol=2|3")
    # The connect as a whole (TLS, HELLO, AUTH, SELECT) waits at most `timeout` too.
    cls = bounded(SSLConnection if tls else UnixDomainSocketConnection if unix else Connection)

    def opener() -> Wire:
        return cls(**params)

    conn = opener()
    _open(conn, request)
    handle = RedisHandle(request, conn, opener, lambda: str(session.settings.get("raw")), session.background)
    handle.timeout = session.timeout
    return handle


def _open(conn: Wire, request: ConnectRequest) -> None:
    """Connect; on NOAUTH ask for the password (hidden) once; fall back to RESP2 for old servers."""
    from redis.exceptions import ConnectionError as RedisConnectionError
    from redis.exceptions import TimeoutError as RedisTimeoutError

    where = f"{conn.username or 'default'}@{request.host}:{request.port(DEFAULT_PORT)}"
    for _attempt in range(3):
        try:
            conn.connect()
            return
        except RedisTimeoutError:
            conn.disconnect()
            where = f"{request.host}:{request.port(DEFAULT_PORT)}"
            raise no_answer("redis", where, conn.socket_timeout, "Redis") from None
        except RedisConnectionError as exc:
            text = str(exc)
            tls_hint = "reset by peer" in text or "closed by server" in text
            hint = "is it a TLS port? then use rediss://" if tls_hint and request.parts.scheme == "redis" else None
            raise ConnectError(f"redis: {text.rstrip('.')}", hint) from None
        except ReplyError as exc:
            if exc.code == "NOAUTH" and conn.password is None:
                conn.password = request.get_password()
            elif exc.code == "ERR" and "HELLO" in exc.text.upper() and conn.protocol == 3:
                conn.protocol = 2  # a server older than Redis 6 speaks RESP2 only
            else:
                raise _connect_error(exc, where) from None
    raise BackendError(f"redis: could not open a session on {where}")


def _connect_error(exc: ReplyError, where: str) -> OpshError:
    if exc.code in ("WRONGPASS", "NOAUTH") or "invalid password" in exc.text:
        return AuthError(f"redis refused the password for {where}", exc.code)
    if "without any password configured" in exc.text:
        return AuthError(f"redis at {where} has no password set, but one was given", "connect without one")
    return BackendError(f"redis: {exc.text}")


UNIX_SCHEMES = ("redis+unix", "unix")


def _unix_params(params: dict[str, Any], request: ConnectRequest, options: dict[str, str]) -> dict[str, Any]:
    """`redis+unix:///run/redis.sock?db=2` (or `unix://`, redis-py's spelling): a local socket;
    the database comes from `?db=`, as the path is the socket's."""
    path = urllib.parse.unquote(request.parts.path)
    if not path:
        raise UsageError("no socket path", "e.g. redis+unix:///run/redis/redis.sock?db=0")
    db = options.pop("db", "0")
    if options:
        unknown = ", ".join(sorted(options))
        raise UsageError(f"unknown option(s) for {request.parts.scheme}://: {unknown}", "db=N, protocol=2|3")
    unix = {k: v for k, v in params.items() if k not in ("host", "port", "socket_keepalive")}
    return unix | {"path": path, "db": _db_number(db)}


def _db_number(path: str) -> int:
    if not path:
        return 0
    try:
        return int(path)
    except ValueError:
        raise UsageError(f"bad database number {path!r}", "redis://host:port/DB with DB a number, e.g. /0") from None


def _protocol(text: str) -> int:
    if text not in ("2", "3"):
        raise UsageError(f"protocol={text}: must be 2 or 3")
    return int(text)


_TLS_VERIFY = {"none": "none", "optional": "optional", "required": "required"}


def _tls_options(session: Session, options: dict[str, str]) -> dict[str, Any]:
    """rediss:// query options: ca=FILE cert=FILE key=FILE verify=none|optional|required
    check_hostname=yes|no."""
    out: dict[str, Any] = {}
    for name, target in (("ca", "ssl_ca_certs"), ("cert", "ssl_certfile"), ("key", "ssl_keyfile")):
        if name in options:
            path = session.path(options.pop(name))
            check_regular(path, f"{name}={path}")  # OpenSSL reads it by name: never a fifo or a device
            out[target] = str(path)
    if "verify" in options:
        verify = options.pop("verify").lower()
        if verify not in _TLS_VERIFY:
            raise UsageError(f"verify={verify}: use none, optional or required")
        out["ssl_cert_reqs"] = _TLS_VERIFY[verify]
    if "check_hostname" in options:
        out["ssl_check_hostname"] = options.pop("check_hostname").lower() in ("1", "yes", "true", "on")
    if options:
        raise UsageError(
            f"unknown option(s) for rediss://: {', '.join(sorted(options))}",
            "ca=FILE cert=FILE key=FILE verify=none|optional|required check_hostname=yes|no protocol=2|3",
        )
    return out
