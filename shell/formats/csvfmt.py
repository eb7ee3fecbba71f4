"""`csv`: a header line, then the rows, NULL as an empty field (the csv module's None), written a
chunk at a time. (Named csvfmt so that it never stands for the csv module it uses.)

Most chunks are text that needs no quoting (no comma, quote or line break in any cell): those
are joined in a few C calls and written as they are, which is what the csv module would write,
and is checked to be so (every row has its commas and its one newline, nothing to quote). Any
other chunk goes through the csv module. Neither copies a large cell more than once: a 64 MB
cell costs about what its driver needed to fetch it.

Rows that can hand their chunks over as the bytes their source sent (an `encoded_chunks()`
method giving the encoding and the chunks, NULL already as its marker: MySQL's C driver) are
joined as bytes and decoded once a chunk, never a cell at a time.
"""

from __future__ import annotations

import csv
import io
import itertools
from collections.abc import Iterable, Sequence
from typing import Any

from opsh.shell.cells import CELL, STR_OR_NULL, cell, visible
from opsh.shell.formats.base import Renderer
from opsh.shell.output import Sink

CHUNK = 2000
NEEDS_QUOTES = ('"', "\r")  # with commas and newlines, which are counted


class Output(Renderer):
    def table(self, headers: list[str], rows: Iterable[Sequence[Any]], sink: Sink) -> int:
        terminal = sink.is_terminal  # names and values from outside: control characters made visible
        sink.write(_with_csv_module([[visible(h) for h in headers] if terminal else headers], terminal))
        encoded = getattr(rows, "encoded_chunks", None)
        chunks = encoded() if callable(encoded) else None
        if chunks is not None:
            encoding, source = chunks
            return _write_encoded(encoding, source, sink)
        count = 0
        iterator = iter(rows)
        while chunk := list(itertools.islice(iterator, CHUNK)):
            text = _joined(chunk)
            if text is None:
                sink.write(_with_csv_module(chunk, terminal))
            else:
                sink.write(visible(text, CELL) if terminal else text)
                sink.write("\n")
            count += len(chunk)
        return count


def _write_encoded(encoding: str, chunks: Iterable[list[Sequence[Any]]], sink: Sink) -> int:
    """Chunks of bytes cells: joined as they are; a file or a pipe gets the bytes themselves
    when they are UTF-8 (what writing their text would give), a terminal their text."""
    count = 0
    terminal = sink.is_terminal
    as_bytes = not terminal and encoding == "utf-8"
    for chunk in chunks:
        joined = _joined(chunk, b",", b"\n", ENCODED_QUOTES)
        if joined is None:
            sink.write(_with_csv_module([[_text(v, encoding) for v in row] for row in chunk], terminal))
        elif as_bytes:
            sink.write_bytes(joined + b"\n")  # one write: each write_bytes flushes the file
        else:
            text = joined.decode(encoding, "surrogateescape")
            sink.write(visible(text, CELL) if terminal else text)
            sink.write("\n")
        count += len(chunk)
    return count


def _text(value: Any, encoding: str) -> Any:
    return bytes(value).decode(encoding, "surrogateescape") if isinstance(value, (bytes, bytearray)) else value


ENCODED_QUOTES = (b'"', b"\r")


def _joined(chunk: list[Sequence[Any]], comma: Any = ",", newline: Any = "\n", quotes: Any = NEEDS_QUOTES) -> Any:
    """The chunk's lines (without the last newline) when every cell is text (str, or bytes with
    bytes marks) the csv module would write as it is; else None."""
    width = len(chunk[0])
    if len(set(map(len, chunk))) != 1:
        return None
    try:
        text = newline.join(map(comma.join, chunk))
    except TypeError:  # a cell that is not text (NULL, a number): the csv module's way
        return None
    if any(mark in text for mark in quotes):
        return None
    if text.count(comma) != (width - 1) * len(chunk) or text.count(newline) != len(chunk) - 1:
        return None  # a cell holds a comma or a line break
    if width <= 1 and any(not row or not row[0] for row in chunk):
        return None  # an empty row or lone empty field: the csv module writes `""` for it
    return text


def _with_csv_module(chunk: list[Sequence[Any]], terminal: bool) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    # Values the csv module writes exactly as cell() would (None as an empty field).
    if terminal:
        chunk = [["" if v is None else visible(cell(v), CELL) for v in row] for row in chunk]
    elif not set(map(type, itertools.chain.from_iterable(chunk))) <= STR_OR_NULL:
        chunk = [["" if v is None else cell(v) for v in row] for row in chunk]
    writer.writerows(chunk)
    return buffer.getvalue()
