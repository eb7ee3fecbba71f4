"""The psql-style box every table is drawn in, whatever its size:

    +------+-------+
    |   id | name  |
    |------+-------|
    |    1 | web1  |
    +------+-------+

Rows come a chunk at a time, so a million-row result streams with flat memory and its first
screen shows at once; columns are measured in display cells (a CJK character takes two), and
on a terminal a table wider than the screen has its widest columns cut (`…`) until it fits,
instead of wrapping every row. Work is done column by column so the common case (ASCII text
and numbers) runs in C: map, join, ljust.
"""

from __future__ import annotations

import itertools
import unicodedata
from collections.abc import Callable, Iterator, Sequence
from typing import Any

from opsh.shell.output import Sink

CHUNK = 2000
ELLIPSIS = "…"
HEADER_PADDING = 2  # a column is at least its header and two (as tabulate drew small tables)
_MIN_CUT = 5  # a column is never cut narrower than this (or its header, if shorter)

Texts = Callable[[Sequence[Any]], Sequence[str]]
Numeric = Callable[[Sequence[Any]], bool]


def draw(headers: list[str], rows: Iterator[Sequence[Any]], sink: Sink, texts: Texts, numeric: Numeric) -> int:
    """Write the table to `sink`; `texts` turns one column's values into their cells,
    `numeric` says whether a column is right-aligned. Returns the number of rows."""
    ncol = len(headers)
    width_limit = sink.width if sink.is_terminal else None
    count = 0
    widths: list[int] = []
    right: list[bool] = []
    caps: list[int] | None = None
    while True:
        chunk = list(itertools.islice(rows, CHUNK))
        if not chunk and count:
            break
        columns = [texts(c) for c in _columns(chunk, ncol)] if chunk else [[] for _ in headers]
        if count == 0:
            right = [numeric(column) for column in _columns(chunk, ncol)] if chunk else [False] * ncol
            widths = [max(width_of(h) + HEADER_PADDING, _column_width(c)) for h, c in zip(headers, columns, strict=True)]
            if width_limit is not None:
                caps = _fit(widths, headers, width_limit)
                widths = caps if caps is not None else widths
            sink.write(_rule(widths, "+", "+") + _header(headers, widths, right) + _rule(widths, "|", "+"))
        else:
            grown = [max(w, _column_width(c)) for w, c in zip(widths, columns, strict=True)]
            widths = [min(g, cap) for g, cap in zip(grown, caps, strict=True)] if caps else grown
        if chunk:
            sink.write(_body(columns, widths, right))
        count += len(chunk)
        if not chunk:
            break
    sink.write(_rule(widths, "+", "+"))
    return count


def _columns(chunk: list[Sequence[Any]], ncol: int) -> list[Sequence[Any]]:
    """The chunk column by column; short rows are padded with None (shown as NULL)."""
    if len(set(map(len, chunk))) > 1 or (chunk and len(chunk[0]) != ncol):
        chunk = [(list(row) + [None] * ncol)[:ncol] for row in chunk]
    return list(zip(*chunk, strict=True)) if chunk else [() for _ in range(ncol)]


def _column_width(column: Sequence[str]) -> int:
    joined = "".join(column)
    if joined.isascii() and "\n" not in joined:
        return max(map(len, column), default=0)  # the common case, at C speed
    return max(map(width_of, column), default=0)


def width_of(text: str) -> int:
    """Display cells: 2 for wide East Asian characters, 0 for combining marks; a cell with
    newlines is as wide as its widest line."""
    if "\n" in text:
        return max(map(width_of, text.split("\n")))
    if text.isascii():
        return len(text)
    return sum(_char_width(ch) for ch in text)


def _char_width(ch: str) -> int:
    if unicodedata.combining(ch) or ch in "\u200b\u200d":
        return 0
    return 2 if unicodedata.east_asian_width(ch) in "WF" else 1


def _fit(widths: list[int], headers: list[str], limit: int) -> list[int] | None:
    """Column widths that fit `limit` screen columns, the widest cut first (no column below a
    floor: its header or _MIN_CUT); None when the table fits as it is."""
    frame = 3 * len(widths) + 1
    if sum(widths) + frame <= limit:
        return None
    floors = [min(w, max(_MIN_CUT, min(width_of(h), 12))) for w, h in zip(widths, headers, strict=True)]
    budget = limit - frame

    def capped(cap: int) -> list[int]:
        return [min(w, max(cap, floor)) for w, floor in zip(widths, floors, strict=True)]

    low, high = 0, max(widths)  # the largest cap whose widths fit the budget
    while low < high:
        mid = (low + high + 1) // 2
        if sum(capped(mid)) <= budget:
            low = mid
        else:
            high = mid - 1
    return capped(low)


def _rule(widths: list[int], edge: str, cross: str) -> str:
    return edge + cross.join("-" * (w + 2) for w in widths) + edge + "\n"


def _header(headers: list[str], widths: list[int], right: list[bool]) -> str:
    cells = [_pad(_cut(h, w), w, r) for h, w, r in zip(headers, widths, right, strict=True)]
    return "| " + " | ".join(cells) + " |\n"


def _body(columns: list[Sequence[str]], widths: list[int], right: list[bool]) -> str:
    padded = [_pad_column(column, w, r) for column, w, r in zip(columns, widths, right, strict=True)]
    if any("\n" in cell for column in padded for cell in column):
        return "".join(_multiline_row(cells, widths, right) for cells in zip(*padded, strict=True))
    return "| " + " |\n| ".join(map(" | ".join, zip(*padded, strict=True))) + " |\n"


def _pad_column(column: Sequence[str], width: int, right: bool) -> Sequence[str]:
    joined = "".join(column)
    if joined.isascii() and "\n" not in joined and max(map(len, column), default=0) <= width:
        return list(map(str.rjust if right else str.ljust, column, itertools.repeat(width)))
    return [cell if "\n" in cell else _pad(_cut(cell, width), width, right) for cell in column]


def _multiline_row(cells: Sequence[str], widths: list[int], right: list[bool]) -> str:
    """A row whose cells hold newlines: one line of the box per line of its tallest cell."""
    split = [cell.split("\n") for cell in cells]
    height = max(map(len, split))
    lines = []
    for n in range(height):
        parts = [
            _pad(_cut(part[n] if n < len(part) else "", w), w, r) for part, w, r in zip(split, widths, right, strict=True)
        ]
        lines.append("| " + " | ".join(parts) + " |\n")
    return "".join(lines)


def _cut(text: str, width: int) -> str:
    """`text` cut to `width` display cells, ending in `…` when something was cut."""
    if width_of(text) <= width:
        return text
    out, used = [], 0
    for ch in text:
        w = _char_width(ch)
        if used + w > width - 1:
            break
        out.append(ch)
        used += w
    return "".join(out) + ELLIPSIS


def _pad(text: str, width: int, right: bool) -> str:
    gap = " " * max(width - width_of(text), 0)
    return gap + text if right else text + gap
