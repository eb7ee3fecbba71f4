"""`peek KEY [N]`: what a key holds, at a glance: type, TTL, memory, encoding, length and the
first N elements, in two round trips whatever the type."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from opsh.commands.redis.render import cell_text, sections, to_json
from opsh.commands.redis.resp import ReplyError
from opsh.shell.errors import NotFound, UsageError
from opsh.shell.result import Result

if TYPE_CHECKING:
    from opsh.commands.redis.handle import RedisHandle
    from opsh.shell.session import Session

DEFAULT_SAMPLE = 10
STRING_SAMPLE_BYTES = 256

_LENGTH = {"string": "STRLEN", "list": "LLEN", "set": "SCARD", "zset": "ZCARD", "hash": "HLEN", "stream": "XLEN"}


def peek(handle: RedisHandle, session: Session, args: list[str]) -> Result:
    if not args or len(args) > 2:
        raise UsageError("usage: peek KEY [N]", "N: how many elements to show (default 10)")
    key = args[0]
    count = _count(args[1]) if len(args) == 2 else DEFAULT_SAMPLE
    kind = _text(handle.call(["TYPE", key]))
    if kind == "none":
        raise NotFound(f"no such key: {key}", f"in db {handle.db}")
    batch: list[list[Any]] = [["PTTL", key], ["OBJECT", "ENCODING", key], ["MEMORY", "USAGE", key]]
    if kind in _LENGTH:
        batch.append([_LENGTH[kind], key])
    sample_cmd = _sample_command(kind, key, count)
    if sample_cmd:
        batch.append(sample_cmd)
    replies = handle.call_many(batch)
    ttl_ms, encoding, memory = (_value(r) for r in replies[:3])
    length = _value(replies[3]) if kind in _LENGTH else None
    headers, values = _sample_rows(kind, _value(replies[-1]) if sample_cmd else None, count)
    rows = [[_json_cell(v) for v in row] for row in values]
    handle.keys.add(handle.db, [key])
    document = {
        "key": key,
        "type": kind,
        "ttl_ms": ttl_ms if isinstance(ttl_ms, int) and ttl_ms >= 0 else None,
        "memory_bytes": memory,
        "encoding": _text(encoding) if encoding is not None else None,
        "length": length,
        "sample": [dict(zip(headers, row, strict=False)) for row in rows],
    }
    summary = [
        ("key", key),
        ("type", kind),
        ("ttl", describe_ttl(ttl_ms)),
        ("memory", describe_bytes(memory)),
        ("encoding", document["encoding"]),
        ("length", _length_text(kind, length)),
    ]
    shown = f"first {len(rows)} of {length:,}" if isinstance(length, int) and kind != "string" else ""

    def parts() -> list[Result]:
        """The summary, then the sample with values quoted as redis-cli quotes them."""
        out = [Result.mapping(summary)]
        if values:
            out.append(Result.table(headers, [[_shown_cell(v) for v in row] for row in values]))
        return out

    return sections(document, parts, status=shown)


def _json_cell(value: Any) -> Any:
    if isinstance(value, dict):
        return {to_json(k): to_json(v) for k, v in value.items()}
    return value if isinstance(value, (int, float)) else to_json(value)


def _shown_cell(value: Any) -> Any:
    if isinstance(value, dict):  # a stream entry's fields
        return " ".join(f"{cell_text(k)}: {cell_text(v)}" for k, v in value.items())
    return cell_text(value)


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise UsageError(f"N must be a number, got {text!r}") from None
    if value < 1:
        raise UsageError("N must be at least 1")
    return value


def _sample_command(kind: str, key: str, count: int) -> list[Any] | None:
    if kind == "string":
        return ["GETRANGE", key, 0, STRING_SAMPLE_BYTES - 1]
    if kind == "list":
        return ["LRANGE", key, 0, count - 1]
    if kind == "set":
        return ["SSCAN", key, 0, "COUNT", max(count, 10)]
    if kind == "zset":
        return ["ZRANGE", key, 0, count - 1, "WITHSCORES"]
    if kind == "hash":
        return ["HSCAN", key, 0, "COUNT", max(count, 10)]
    if kind == "stream":
        return ["XRANGE", key, "-", "+", "COUNT", count]
    return None


def _sample_rows(kind: str, reply: Any, count: int) -> tuple[list[str], list[list[Any]]]:
    if reply is None:
        return [], []
    if kind == "string":
        return ["value"], [[reply]]
    if kind == "list":
        return ["index", "value"], [[i, v] for i, v in enumerate(reply)]
    if kind == "set":
        return ["member"], [[m] for m in reply[1][:count]]
    if kind == "zset":
        pairs = reply if reply and isinstance(reply[0], list) else list(zip(reply[::2], reply[1::2], strict=False))
        return ["member", "score"], [[m, float(s)] for m, s in pairs]
    if kind == "hash":
        flat = reply[1]
        pairs = list(zip(flat[::2], flat[1::2], strict=False))[:count]
        return ["field", "value"], [[f, v] for f, v in pairs]
    if kind == "stream":
        rows = []
        for entry_id, fields in reply:
            values = dict(zip(fields[::2], fields[1::2], strict=False)) if isinstance(fields, list) else fields
            rows.append([entry_id, values])
        return ["id", "fields"], rows
    return [], []


def _value(reply: Any) -> Any:
    """A reply, or None where the server could not answer (MEMORY USAGE on old servers)."""
    return None if isinstance(reply, ReplyError) else reply


def _text(value: Any) -> str:
    return value.decode("utf-8", "replace") if isinstance(value, bytes) else str(value)


def _length_text(kind: str, length: Any) -> str | None:
    if length is None:
        return None
    unit = {"string": "byte", "hash": "field", "stream": "entry"}.get(kind, "element")
    if length != 1:
        unit = "entries" if unit == "entry" else unit + "s"
    return f"{length:,} {unit}"


def describe_ttl(ttl_ms: Any) -> str:
    if not isinstance(ttl_ms, int):
        return "unknown"
    if ttl_ms == -1:
        return "none (persistent)"
    if ttl_ms < 0:
        return "expired"
    seconds = ttl_ms / 1000
    if seconds < 60:
        return f"{seconds:.3g} s"
    parts: list[str] = []
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60), ("s", 1)):
        amount, seconds = divmod(seconds, size)
        if amount or (unit == "s" and not parts):
            parts.append(f"{int(amount)}{unit}")
    return " ".join(parts)


def describe_bytes(size: Any) -> str:
    if not isinstance(size, int):
        return "unknown"
    value = float(size)
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{size:,} bytes" if unit == "bytes" else f"{value:.1f} {unit} ({size:,} bytes)"
        value /= 1024
    return f"{size:,} bytes"
