"""Reading Redis replies with their RESP type kept, so they can be shown the way redis-cli does.

redis-py's parsers turn `+OK` and `$2 OK` into the same bytes and sets into lists; redis-cli
shows the first bare and the second quoted, and a shell must too. This parser plugs into a
redis-py Connection (`parser_class=TypedParser`), which keeps doing sockets, TLS, AUTH/HELLO
and SELECT; it only reads each reply into the small types below. It reads RESP2 and RESP3.
It builds on a private class of redis-py: see TypedParser.

A server is not trusted to follow the protocol: a length, number or type byte that is not what
RESP allows, or replies nested deeper than any command returns, is a MalformedReply naming the
server (redis-cli says "protocol error" too), never a Python error from deep inside a read.
"""

from __future__ import annotations

import re
from typing import Any

from redis._parsers import _RESP3Parser
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError

from opsh.commands.shared.redisconn import endpoint
from opsh.shell.errors import ConnectionLost

_CLOSED = "Connection closed by server."
# Replies nest a few levels (COMMAND DOCS, a Lua table); a limit keeps every reader and renderer
# of a reply (they recurse) far from Python's recursion limit whatever a server sends.
MAX_DEPTH = 100
_INTEGER = re.compile(rb"[+-]?[0-9]+")
_DOUBLE = re.compile(rb"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|[+-]?(?:inf|nan)", re.IGNORECASE)
_AGGREGATES = frozenset((b"*", b"%", b"~", b">", b"|"))


class Status(bytes):
    """A simple-string reply (`+OK`): shown bare, not quoted."""


class Verbatim(bytes):
    """A verbatim string (`=txt:...`, INFO in RESP3): shown as the text it is."""


class Double(float):
    """A RESP3 double (`,3.14`), with the server's own text of it: redis-cli prints that text
    (`inf`, `1.5e+20`), not a float's repr."""

    text: str

    def __new__(cls, body: bytes | str | float) -> Double:
        value = super().__new__(cls, body)
        value.text = body.decode("ascii", "replace") if isinstance(body, bytes) else str(body)
        return value


class BigNumber(int):
    """A RESP3 big number (`(1234...`)."""


class RSet(list):  # type: ignore[type-arg]
    """A RESP3 set reply, kept in server order (members may be unhashable)."""


class Push(list):  # type: ignore[type-arg]
    """A RESP3 push message (pub/sub messages, invalidations)."""


class ReplyError(ResponseError):
    """An error reply, with the server's whole text (`WRONGTYPE Operation against ...`)."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text = text

    @property
    def code(self) -> str:
        return self.text.split(" ", 1)[0]


class MalformedReply(ConnectionLost):
    """Bytes from the server that break RESP. What follows them on the connection cannot be
    trusted to line up with the commands sent, so the connection is reset (redis-py drops it
    on any failed read) and the next command opens a new one."""

    @classmethod
    def at(cls, where: str, detail: str) -> MalformedReply:
        message = f"protocol error from redis at {where}: {detail}"
        return cls(message, "the connection was reset; the next command reconnects")

    def losing(self, forgotten: list[str]) -> MalformedReply:
        """The same error, saying what died with the connection (an open MULTI, WATCHes)."""
        if not forgotten:
            return self
        return MalformedReply(f"{self.message}; {'; '.join(forgotten)}", self.hint)


class BadReply(Exception):
    """What is wrong with a reply, before it is known which server sent it."""

    def __init__(self, detail: str) -> None:
        super().__init__(detail)
        self.detail = detail


def quoted(raw: bytes) -> str:
    """Bytes from the server as a short printable quote: `"12x"`, `"\\x1b]0;"` (never raw control
    characters on the user's terminal)."""
    shown = raw[:40].decode("latin-1").encode("unicode_escape").decode("ascii").replace('"', '\\"')
    return f'"{shown}"' + ("..." if len(raw) > 40 else "")


def integer(body: bytes, what: str) -> int:
    """A RESP integer (a length, a count, an `:N` reply); BadReply if it is not one."""
    if not _INTEGER.fullmatch(body):
        raise BadReply(f"bad {what} {quoted(body)}")
    return int(body)


def length(body: bytes, what: str) -> int:
    """A length or count: -1 (nil) or more."""
    value = integer(body, what)
    if value < -1:
        raise BadReply(f"bad {what} {quoted(body)}")
    return value


def too_deep() -> BadReply:
    return BadReply(f"a reply nested more than {MAX_DEPTH} levels deep")


def unknown_type(raw: bytes) -> BadReply:
    return BadReply(f"got {quoted(raw[:1])} as reply type byte")


def _hashable(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_hashable(v) for v in value)
    if isinstance(value, dict):
        return tuple((k, _hashable(v)) for k, v in value.items())
    return value


class TypedParser(_RESP3Parser):
    """redis-py's RESP3 parser with its reply reader replaced by a type-preserving one.

    `_RESP3Parser` is private to redis-py: what opsh relies on (its `read_response` calling
    `_read_response` with keywords, `on_connect(connection)` giving it the connection,
    `self._buffer` with `readline` and `read`) is pinned by tests/unit/test_redis_resp.py, and
    pyproject.toml allows only the releases checked there."""

    where = "?"  # the server, for messages (set when a connection hands its socket over)

    def on_connect(self, connection: Any) -> None:
        super().on_connect(connection)  # type: ignore[no-untyped-call]
        self.where = endpoint(connection)

    # redis-py 8 added `timeout` to this private signature; **kw hands on whatever a release
    # passes, to every nested read, so one override fits each release pyproject allows.
    def _read_response(  # type: ignore[override]
        self, disable_decoding: bool = False, push_request: bool = False, **kw: Any
    ) -> Any:
        try:
            return self._read(kw, 0)
        except BadReply as bad:
            raise MalformedReply.at(self.where, bad.detail) from None

    def _read(self, kw: dict[str, Any], depth: int) -> Any:
        buffer = self._buffer
        if buffer is None:
            raise RedisConnectionError(_CLOSED)
        raw = buffer.readline(**kw)
        if not raw:
            raise RedisConnectionError(_CLOSED)
        kind, body = raw[:1], raw[1:]
        if kind == b"$":
            size = length(body, "bulk string length")
            return None if size < 0 else buffer.read(size, **kw)
        if kind == b"+":
            return Status(body)
        if kind == b":":
            return integer(body, "integer value")
        if kind == b"-":
            return ReplyError(body.decode("utf-8", "replace"))
        if kind in _AGGREGATES:
            if depth >= MAX_DEPTH:
                raise too_deep()
            return self._aggregate(kind, length(body, "multi-bulk length"), kw, depth + 1)
        return self._scalar(raw, kw)

    def _aggregate(self, kind: bytes, count: int, kw: dict[str, Any], depth: int) -> Any:
        if count < 0:
            return None
        if kind == b"*":
            return [self._read(kw, depth) for _ in range(count)]
        if kind == b"%":
            pairs = {}
            for _ in range(count):
                key = _hashable(self._read(kw, depth))
                pairs[key] = self._read(kw, depth)
            return pairs
        if kind == b"~":
            return RSet(self._read(kw, depth) for _ in range(count))
        if kind == b">":
            return Push(self._read(kw, depth) for _ in range(count))
        # `|`: attributes (metadata about the reply that follows): read and dropped.
        for _ in range(count * 2):
            self._read(kw, depth)
        return self._read(kw, depth)

    def _scalar(self, raw: bytes, kw: dict[str, Any]) -> Any:
        """The RESP3 types that are not aggregates."""
        buffer = self._buffer
        assert buffer is not None
        kind, body = raw[:1], raw[1:]
        if kind == b"_":
            if body:
                raise BadReply(f"bad nil value {quoted(body)}")
            return None
        if kind == b",":
            if not _DOUBLE.fullmatch(body):
                raise BadReply(f"bad double value {quoted(body)}")
            return Double(body)
        if kind == b"#":
            if body not in (b"t", b"f"):
                raise BadReply(f"bad bool value {quoted(body)}")
            return body == b"t"
        if kind == b"(":
            return BigNumber(integer(body, "bignum value"))
        if kind == b"=":
            text = buffer.read(max(length(body, "verbatim string length"), 0), **kw)
            if text[3:4] != b":":
                raise BadReply(f"bad verbatim string {quoted(text)}")
            return Verbatim(text[4:])
        if kind == b"!":
            return ReplyError(buffer.read(max(length(body, "blob error length"), 0), **kw).decode("utf-8", "replace"))
        raise unknown_type(raw)
