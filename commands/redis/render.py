"""Redis replies as opsh Results: redis-cli's look on a terminal, --raw when piped, JSON on demand.

A reply becomes a Result whose document is the reply as JSON-like data (so `set format json`,
csv and `\\> file.json` get the structure) and whose `present` draws it like redis-cli:
`(integer) 5`, `(nil)`, numbered lists with nested lists indented, `OK` for simple strings.
A map of plain values (HGETALL, CONFIG GET) is left to the renderer's field/value table. When
the output is not a terminal (or `set raw on`), it is written like `redis-cli --raw`: one
value per line, unquoted.
"""

from __future__ import annotations

import math
from typing import Any

from opsh.commands.redis.resp import BigNumber, Double, ReplyError, RSet, Status, Verbatim
from opsh.shell.render import STYLES, cell
from opsh.shell.result import Result

RESET = "\x1b[0m"


def reply_result(reply: Any, raw_setting: str = "auto", document: Any = None, pairs: bool = False) -> Result:
    """The Result for one reply; `document` overrides the JSON form (parsed INFO). `pairs`: a
    RESP2 flat array of field, value... (HGETALL) that reads as a map, but stays the flat array
    in raw output, exactly as redis-cli --raw prints it."""
    shown = dict(zip(reply[::2], reply[1::2], strict=False)) if pairs else reply
    doc = to_json(shown) if document is None else document

    def present(fmt: str, sink: Any) -> str | bytes | None:
        raw = raw_setting == "on" or (raw_setting == "auto" and not sink.is_terminal)
        if fmt == "plain" or (fmt == "table" and raw):
            return raw_bytes(reply)
        if fmt == "table" and is_flat_map(shown):
            return map_table(shown, sink)
        if fmt == "table":
            return cli_text(shown, color=sink.color)
        return None

    return Result.doc(doc, present=present)


def is_flat_map(reply: Any) -> bool:
    """A non-empty map of plain values: shown as a field/value table."""
    return (
        isinstance(reply, dict)
        and bool(reply)
        and all(not isinstance(v, (list, dict, ReplyError)) for v in reply.values())
    )


# ---------------------------------------------------------------- JSON


def to_json(reply: Any) -> Any:
    """The reply as JSON-ready data: strings decoded, maps as objects, errors as {"error": ...}."""
    if isinstance(reply, bytes):
        return cell(reply)
    if isinstance(reply, Double):
        return float(reply) if math.isfinite(reply) else str(reply)
    if isinstance(reply, (bool, int, float)) or reply is None:
        return reply
    if isinstance(reply, dict):
        return {_key_text(k): to_json(v) for k, v in reply.items()}
    if isinstance(reply, (list, tuple)):
        return [to_json(v) for v in reply]
    if isinstance(reply, ReplyError):
        return {"error": reply.text}
    return str(reply)


def _key_text(key: Any) -> str:
    if isinstance(key, bytes):
        return cell(key)
    if isinstance(key, tuple):
        return " ".join(_key_text(k) for k in key)
    return str(key)


# ---------------------------------------------------------------- redis-cli's look


def cli_text(reply: Any, color: bool = False) -> str:
    return _cli(reply, "", color)


def _style(text: str, style: str, color: bool) -> str:
    return f"{STYLES[style]}{text}{RESET}" if color else text


def _cli(reply: Any, indent: str, color: bool) -> str:
    if isinstance(reply, Status):
        return reply.decode("utf-8", "replace")
    if isinstance(reply, Verbatim):
        return reply.decode("utf-8", "replace").replace("\r\n", "\n").rstrip("\n")
    if isinstance(reply, bytes):
        return quote(reply)
    if reply is None:
        return _style("(nil)", "dim", color)
    if isinstance(reply, bool):
        return _style("(true)" if reply else "(false)", "dim", color)
    if isinstance(reply, BigNumber):
        return _style("(big number) ", "dim", color) + str(int(reply))
    if isinstance(reply, int):
        return _style("(integer) ", "dim", color) + str(reply)
    if isinstance(reply, Double):
        return _style("(double) ", "dim", color) + reply.text
    if isinstance(reply, ReplyError):
        return _style(f"(error) {reply.text}", "error", color)
    if isinstance(reply, dict):
        return _cli_map(reply, indent, color)
    if isinstance(reply, list):
        return _cli_list(reply, indent, color)
    return str(reply)


def _cli_list(items: list[Any], indent: str, color: bool) -> str:
    mark = "~" if isinstance(items, RSet) else ")"
    if not items:
        return _style("(empty set)" if isinstance(items, RSet) else "(empty array)", "dim", color)
    width = len(str(len(items)))
    lines = []
    for number, item in enumerate(items, 1):
        head = f"{number:>{width}}{mark} "
        body = _cli(item, indent + " " * len(head), color)
        lines.append((indent if number > 1 else "") + head + body)
    return "\n".join(lines)


def _cli_map(pairs: dict[Any, Any], indent: str, color: bool) -> str:
    if not pairs:
        return _style("(empty hash)", "dim", color)
    width = len(str(len(pairs)))
    lines = []
    for number, (key, value) in enumerate(pairs.items(), 1):
        head = f"{number:>{width}}# "
        key_text = _cli(list(key) if isinstance(key, tuple) else key, indent + " " * len(head), color)
        lead = f"{head}{key_text} => "
        body = _cli(value, indent + " " * len(lead), color)
        lines.append((indent if number > 1 else "") + lead + body)
    return "\n".join(lines)


_QUOTED = {ord("\\"): "\\\\", ord('"'): '\\"', 10: "\\n", 13: "\\r", 9: "\\t", 7: "\\a", 8: "\\b"}


def quote(data: bytes) -> str:
    """A bulk string as redis-cli prints it: quoted, escapes for control and invalid bytes
    (readable UTF-8 is kept as text, where redis-cli would print `\\xc3\\xa9`)."""
    text = data.decode("utf-8", "surrogateescape")
    out = []
    for ch in text:
        code = ord(ch)
        if code in _QUOTED:
            out.append(_QUOTED[code])
        elif 0xDC80 <= code <= 0xDCFF:
            out.append(f"\\x{code - 0xDC00:02x}")
        elif code < 0x20 or code == 0x7F or not ch.isprintable() and code > 0x7F:
            out.append(f"\\x{code:02x}" if code < 0x100 else ch.encode("unicode_escape").decode())
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


# ---------------------------------------------------------------- redis-cli --raw


def raw_bytes(reply: Any) -> bytes:
    """The reply exactly as `redis-cli --raw` writes it: values as their bytes, one per line,
    nil and empty collections as empty lines (so line positions stay stable for scripts), a
    map's key and value on one line, `(true)`/`(false)`, a double as the server wrote it.
    A text reply (INFO, CLIENT INFO, MEMORY DOCTOR...: a verbatim string) is written as it
    came, its own line ends included and nothing added: INFO ends in `\r\n`, not `\r\n\n`."""
    if isinstance(reply, Verbatim):
        return bytes(reply)
    return _raw(reply) + b"\n"


def _raw(reply: Any) -> bytes:
    if isinstance(reply, bytes):  # bulk, simple and verbatim strings alike
        return bytes(reply)
    if reply is None:
        return b""
    if isinstance(reply, bool):
        return b"(true)" if reply else b"(false)"
    if isinstance(reply, Double):
        return reply.text.encode()
    if isinstance(reply, int):
        return b"%d" % reply
    if isinstance(reply, ReplyError):
        return reply.text.encode() + b"\n"
    if isinstance(reply, dict):
        return b"\n".join(_raw(list(k) if isinstance(k, tuple) else k) + b" " + _raw(v) for k, v in reply.items())
    if isinstance(reply, list):
        return b"\n".join(map(_raw, reply))
    return str(reply).encode()


def raw_text(reply: Any) -> str:
    """raw_bytes() as text, undecodable bytes as surrogate escapes (for text-only callers)."""
    return raw_bytes(reply).decode("utf-8", "surrogateescape")


# ---------------------------------------------------------------- tables


def map_table(pairs: dict[Any, Any], sink: Any) -> str:
    """A map as a field/value table, each cell written with redis-cli's quoting (`"a\\nb"`,
    `" lead"`, `"\\xff"`), so a newline, a leading space or a binary byte cannot pass for
    something else."""
    rows = [[_cli(list(k) if isinstance(k, tuple) else k, "", False), _cli(v, "", False)] for k, v in pairs.items()]
    return table_text(["field", "value"], rows, sink)


def table_text(headers: list[str], rows: list[list[Any]], sink: Any, fmt: str = "table") -> str:
    import io

    from opsh.shell.output import StreamSink
    from opsh.shell.render import render

    buffer = io.StringIO()
    render(Result.table(headers, rows), fmt, StreamSink(buffer, color=sink.color))
    return buffer.getvalue().rstrip("\n")


def cell_text(value: Any) -> Any:
    """A Redis value in a table cell: strings with redis-cli's quoting, numbers as numbers."""
    if isinstance(value, (bytes, str)):
        return quote(value.encode("utf-8", "surrogateescape") if isinstance(value, str) else value)
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return value
    return _cli(value, "", False)


# ---------------------------------------------------------------- INFO


def parse_info(text: str) -> dict[str, dict[str, str]]:
    """INFO's `# Section` / `field:value` text as {section: {field: value}} for JSON and csv."""
    sections: dict[str, dict[str, str]] = {}
    current = sections.setdefault("info", {})
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("#"):
            current = sections.setdefault(line.lstrip("# ").lower(), {})
        elif ":" in line:
            field, _, value = line.partition(":")
            current[field] = value
    if not sections["info"]:
        del sections["info"]
    return sections


# ---------------------------------------------------------------- several tables in one Result


def sections(document: Any, parts: Any, status: str = "", failed: bool = False) -> Result:
    """A Result that is one JSON document, but shows as several tables (a summary, then rows).

    `parts()` gives the Results to draw for table-like formats; json gets `document` whole.
    """

    def present(fmt: str, sink: Any) -> str | None:
        if fmt == "json":
            return None
        import io

        from opsh.shell.output import StreamSink
        from opsh.shell.render import render

        buffer = io.StringIO()
        inner = StreamSink(buffer, color=sink.color)
        for index, part in enumerate(parts()):
            if index and fmt in ("table", "vertical"):
                buffer.write("\n")
            render(part, fmt, inner)
        return buffer.getvalue().rstrip("\n")

    return Result.doc(document, status=status, failed=failed, present=present)
