"""One renderer for every Result: table, vertical, json, csv or plain, to any Sink.

Tables of every size are drawn by shell/table.py (the psql box, display-width aware, fitted to
the terminal), a chunk at a time, so a million-row result streams to a file or the pager with
flat memory and its first screen shows at once.
"""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import io
import itertools
import json
import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from opsh.shell.output import Sink
from opsh.shell.result import Block, Result, Size, StyledLine

NULL = "<null>"
CHUNK = 2000

STYLES = {
    "host": "\x1b[36m",
    "error": "\x1b[31m",
    "warn": "\x1b[33m",
    "ok": "\x1b[32m",
    "dim": "\x1b[2m",
    "key": "\x1b[1m",
    "null": "\x1b[2m",
    "bold": "\x1b[1m",
    "": "",
}
RESET = "\x1b[0m"


def render(result: Result, fmt: str, sink: Sink) -> int:
    """Write `result` to `sink` in `fmt`; returns the number of rows/lines written."""
    if result.present is not None:
        text = result.present(fmt, sink)
        if isinstance(text, bytes):
            sink.write_bytes(text)
            return text.count(b"\n")
        if isinstance(text, str):
            return _render_text(text, "plain", sink)
        if text is not None:  # lines to stream as they are produced
            return _render_stream(text, sink)
    kind = result.kind
    if kind == "table":
        return _render_table(result.headers or [], result.rows or [], fmt, sink)
    if kind == "document":
        return _render_document(result.document, fmt, sink)
    if kind == "stream":
        return _render_stream(result.stream or [], sink)
    if kind == "text":
        return _render_text(result.text or "", fmt, sink)
    return 0


# ---------------------------------------------------------------- cells


def cell(value: Any) -> str:
    """How one value reads in a table: NULL distinct from the string 'NULL'."""
    if value is None:
        return NULL
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, decimal.Decimal)):
        return str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return _bytes_text(bytes(value))
    if isinstance(value, dt.datetime):
        return value.isoformat(sep=" ")
    if isinstance(value, (dt.date, dt.time, dt.timedelta)):
        return str(value)
    if isinstance(value, (dict, list, tuple)):
        return json.dumps(value, default=json_default, ensure_ascii=False)
    return str(value)


def shown(value: Any) -> str:
    """A cell in the views meant for reading (table, vertical): like cell(), sizes human-readable."""
    if isinstance(value, Size):
        return value.human()
    return cell(value)


def _bytes_text(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return "0x" + data.hex()


def json_default(value: Any) -> Any:
    """JSON for what json.dumps cannot encode by itself (dates, decimals, bytes, ObjectId)."""
    if isinstance(value, (dt.datetime, dt.date, dt.time)):
        return value.isoformat()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    if isinstance(value, decimal.Decimal):
        # A string, always: exact, and one JSON type for a whole column (1.00 and 1.50 alike),
        # as the mysql client's JSON output and most drivers give it.
        return str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return _bytes_text(bytes(value))
    if isinstance(value, (set, frozenset)):
        return sorted(value, key=str)
    return str(value)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, decimal.Decimal)) and not isinstance(value, bool)


# ---------------------------------------------------------------- tables


def _render_table(headers: list[str], rows: Iterable[Sequence[Any]], fmt: str, sink: Sink) -> int:
    if fmt == "json":
        return _table_json(headers, rows, sink)
    if fmt == "csv":
        return _table_csv(headers, rows, sink)
    if fmt == "plain":
        return _table_plain(rows, sink)
    if fmt == "vertical":
        return _table_vertical(headers, rows, sink)
    if not headers:
        return 0
    from opsh.shell.table import draw

    return draw(headers, iter(rows), sink, _shown_texts, _numeric_column)


def _shown_texts(column: Sequence[Any]) -> Sequence[str]:
    return _column_texts(column, convert=shown)


_NONE = type(None)
_NUMBER_TYPES = frozenset({int, float, decimal.Decimal})
# Types whose cell() is plain str(): converted by one C-level map.
_STR_TYPES = frozenset({str, int, float, decimal.Decimal})
_STR_OR_NULL = _STR_TYPES | {_NONE}


def _numeric_column(column: Sequence[Any]) -> bool:
    """Right-align a column whose values are all numbers (NULLs aside)."""
    kinds = set(map(type, column)) - {_NONE}
    if kinds <= _NUMBER_TYPES:
        return bool(kinds)
    return all(v is None or _is_number(v) for v in column) and any(v is not None for v in column)


def _column_texts(column: Sequence[Any], null: str = NULL, convert: Callable[[Any], str] = cell) -> Sequence[str]:
    """`convert` of every value of one column (NULL as `null`), with C-speed paths for the
    common types (whose cell() and shown() are plain str())."""
    kinds = set(map(type, column))
    if kinds == {str}:
        return column
    if kinds <= _STR_TYPES:
        return list(map(str, column))
    if kinds <= _STR_OR_NULL:
        return [null if v is None else str(v) for v in column]
    return [null if v is None else convert(v) for v in column]


def _table_vertical(headers: list[str], rows: Iterable[Sequence[Any]], sink: Sink) -> int:
    width = max((len(h) for h in headers), default=0)
    count = 0
    for count, row in enumerate(rows, 1):
        banner = f" {count}. row "
        parts = [f"{banner:*^62}\n"]
        parts += [f"{h.rjust(width)}: {shown(v)}\n" for h, v in zip(headers, row, strict=False)]
        sink.write("".join(parts))
    return count


def _table_json(headers: list[str], rows: Iterable[Sequence[Any]], sink: Sink) -> int:
    count = 0
    sink.write("[")
    for count, row in enumerate(rows, 1):
        item = json.dumps(dict(zip(headers, row, strict=False)), default=json_default, ensure_ascii=False)
        sink.write(("\n  " if count == 1 else ",\n  ") + item)
    sink.write("\n]\n" if count else "]\n")
    return count


# Values the csv module writes exactly as cell() would (None as an empty field).
_CSV_NATIVE = _STR_OR_NULL


def _table_csv(headers: list[str], rows: Iterable[Sequence[Any]], sink: Sink) -> int:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(headers)
    count = 0
    iterator = iter(rows)
    while True:
        chunk: list[Sequence[Any]] = list(itertools.islice(iterator, CHUNK))
        if chunk:
            if not set(map(type, itertools.chain.from_iterable(chunk))) <= _CSV_NATIVE:
                chunk = [["" if v is None else cell(v) for v in row] for row in chunk]
            writer.writerows(chunk)
            count += len(chunk)
        sink.write(buffer.getvalue())
        buffer.seek(0)
        buffer.truncate()
        if not chunk:
            return count


def _table_plain(rows: Iterable[Sequence[Any]], sink: Sink) -> int:
    count = 0
    iterator = iter(rows)
    while True:
        chunk = list(itertools.islice(iterator, CHUNK))
        if not chunk:
            return count
        if len(set(map(len, chunk))) == 1:
            columns = [_column_texts(column, null="") for column in zip(*chunk, strict=True)]
            lines: Iterable[str] = map("\t".join, zip(*columns, strict=True)) if columns else ("" for _ in chunk)
        else:  # rows of different lengths: each as it is
            lines = ("\t".join("" if v is None else cell(v) for v in row) for row in chunk)
        sink.write("\n".join(lines) + "\n")
        count += len(chunk)


# ---------------------------------------------------------------- documents, text, streams


def _render_document(document: Any, fmt: str, sink: Sink) -> int:
    if fmt in ("table", "vertical", "csv"):
        flat = flatten_documents(document)
        if flat is not None:
            return _render_table(flat[0], flat[1], fmt, sink)
    if fmt == "plain":
        return _document_plain(document, sink)
    text = json.dumps(document, indent=2, default=json_default, ensure_ascii=False)
    sink.write(highlight_json(text) if sink.color else text)
    sink.write("\n")
    return 1


def _document_plain(document: Any, sink: Sink) -> int:
    items = document if isinstance(document, list) else [document]
    for item in items:
        text = (
            item
            if isinstance(item, str)
            else cell(item)
            if not isinstance(item, (dict, list))
            else json.dumps(item, default=json_default, ensure_ascii=False)
        )
        sink.write(f"{text}\n")
    return len(items)


def flatten_documents(document: Any) -> tuple[list[str], list[list[Any]]] | None:
    """Documents as a table: keys (dotted for nested) become columns, in first-seen order."""
    if isinstance(document, dict):
        return ["field", "value"], [[k, v] for k, v in _flatten(document).items()]
    if not isinstance(document, list) or not all(isinstance(d, dict) for d in document):
        if isinstance(document, list):
            return ["value"], [[d] for d in document]
        return None
    flat = [_flatten(d) for d in document]
    headers: dict[str, None] = {}
    for row in flat:
        headers.update(dict.fromkeys(row))
    keys = list(headers)
    return keys, [[row.get(k) for k in keys] for row in flat]


def _flatten(doc: dict[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in doc.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and value:
            out.update(_flatten(value, name + "."))
        else:
            out[name] = value
    return out


def highlight_json(text: str) -> str:
    from pygments import highlight
    from pygments.formatters import TerminalFormatter
    from pygments.lexers import JsonLexer

    coloured: str = highlight(text, JsonLexer(), TerminalFormatter())
    return coloured.rstrip("\n")


def _render_text(text: str, fmt: str, sink: Sink) -> int:
    if fmt == "json":
        sink.write(json.dumps(text, ensure_ascii=False) + "\n")
        return 1
    sink.write(text if text.endswith("\n") or not text else text + "\n")
    return text.count("\n") + 1


def wrapped(text: str, width: int) -> str:
    """`text` with its long lines wrapped at `width` (help pages at the terminal): a line laid
    out in columns (`  name  what it does`) continues under its second column, any other
    under its own indent plus two."""
    import textwrap

    out: list[str] = []
    for line in text.split("\n"):
        if len(line) <= width:
            out.append(line)
            continue
        indent = len(line) - len(line.lstrip())
        column = _SECOND_COLUMN.match(line)
        hang = column.end(1) if column and column.end(1) <= width // 2 else indent + 2
        wrapper = textwrap.TextWrapper(
            width=width, subsequent_indent=" " * hang, break_on_hyphens=False, break_long_words=True
        )
        out += wrapper.wrap(line) or [line[:width]]
    return "\n".join(out)


_SECOND_COLUMN = re.compile(r"^(\s*\S(?:\S| (?! ))*\s{2,})\S")


def styled(line: StyledLine, color: bool) -> str:
    if isinstance(line, str):
        return line
    if isinstance(line, Block):
        return _block(line, color)
    if not color:
        return "".join(text for _, text in line)
    return "".join(f"{STYLES.get(style, '')}{text}{RESET}" if style else text for style, text in line)


def _block(block: Block, color: bool) -> str:
    prefix = styled(block.prefix, color)
    if color and block.style:
        prefix, end = prefix + STYLES.get(block.style, ""), RESET
    else:
        end = ""
    return prefix + block.text.replace("\n", end + "\n" + prefix) + end


def _render_stream(lines: Iterable[StyledLine], sink: Sink) -> int:
    """Write lines as they come. Ctrl-C is how a person ends a stream (`tail -f`, `run`): if it
    lands while a line is being written rather than inside the producer, it is passed into the
    producer, so the producer's own handling (stop following, report what finished) runs."""
    iterator = iter(lines)
    throw = getattr(iterator, "throw", None)
    count = 0
    interrupted = False
    while True:
        try:
            line = throw(KeyboardInterrupt) if interrupted and throw else next(iterator)
        except StopIteration:
            return count
        interrupted = False
        try:
            sink.write(styled(line, sink.color) + "\n")
            sink.flush()
            count += 1
        except KeyboardInterrupt:
            if throw is None:
                raise
            interrupted = True
