"""Reading Redis replies with their RESP type kept, so they can be shown the way redis-cli does.

redis-py's parsers turn `+OK` and `$2 OK` into the same bytes and sets into lists; redis-cli
shows the first bare and the second quoted, and a shell must too. This parser plugs into a
redis-py Connection (`parser_class=TypedParser`), which keeps doing sockets, TLS, AUTH/HELLO
and SELECT; it only reads each reply into the small types below. It reads RESP2 and RESP3.
It builds on a private class of redis-py: see TypedParser.
"""

from __future__ import annotations

from typing import Any

from redis._parsers import _RESP3Parser
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import InvalidResponse, ResponseError

_CLOSED = "Connection closed by server."


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


def _hashable(value: Any) -> Any:
    if isinstance(value, list):
        return tuple(_hashable(v) for v in value)
    if isinstance(value, dict):
        return tuple((k, _hashable(v)) for k, v in value.items())
    return value


class TypedParser(_RESP3Parser):
    """redis-py's RESP3 parser with its reply reader replaced by a type-preserving one.

    `_RESP3Parser` is private to redis-py: what opsh relies on (its `read_response` calling
    `_read_response` with keywords, `self._buffer` with `readline` and `read`) is pinned by
    tests/unit/test_redis_resp.py, and pyproject.toml allows only the releases checked there."""

    # redis-py 8 added `timeout` to this private signature; **kw hands on whatever a release
    # passes, to every nested read, so one override fits each release pyproject allows.
    def _read_response(  # type: ignore[override]
        self, disable_decoding: bool = False, push_request: bool = False, **kw: Any
    ) -> Any:
        buffer = self._buffer
        if buffer is None:
            raise RedisConnectionError(_CLOSED)
        raw = buffer.readline(**kw)
        if not raw:
            raise RedisConnectionError(_CLOSED)
        kind, body = raw[:1], raw[1:]
        if kind == b"$":
            size = int(body)
            return None if size < 0 else buffer.read(size, **kw)
        if kind == b"+":
            return Status(body)
        if kind == b":":
            return int(body)
        if kind == b"*":
            count = int(body)
            return None if count < 0 else [self._read_response(**kw) for _ in range(count)]
        if kind == b"-":
            return ReplyError(body.decode("utf-8", "replace"))
        return self._read_resp3(kind, body, kw)

    def _read_resp3(self, kind: bytes, body: bytes, kw: dict[str, Any]) -> Any:
        buffer = self._buffer
        assert buffer is not None
        if kind == b"_":
            return None
        if kind == b"%":
            pairs = {}
            for _ in range(int(body)):
                key = _hashable(self._read_response(**kw))
                pairs[key] = self._read_response(**kw)
            return pairs
        if kind == b"~":
            return RSet(self._read_response(**kw) for _ in range(int(body)))
        if kind == b",":
            return Double(body)
        if kind == b"#":
            return body == b"t"
        if kind == b"(":
            return BigNumber(body)
        if kind == b"=":
            return Verbatim(buffer.read(int(body), **kw)[4:])
        if kind == b"!":
            return ReplyError(buffer.read(int(body), **kw).decode("utf-8", "replace"))
        if kind == b">":
            return Push(self._read_response(**kw) for _ in range(int(body)))
        if kind == b"|":
            # Attributes (metadata about the reply that follows): read and dropped.
            for _ in range(int(body) * 2):
                self._read_response(**kw)
            return self._read_response(**kw)
        raise InvalidResponse(f"Protocol error: {(kind + body)[:40]!r}")
