"""The psql-style box every table is drawn in, whatever its size:

    +------+-------+
    |   id | name  |
    |------+-------|
    |    1 | web1  |
    +------+-------+

Rows come a chunk at a time, so a million-row result streams with flat memory and its first
screen shows at once; columns are measured in display cells (a CJK character takes two), and
a table on the terminal's screen that is wider than it has its widest columns cut (`…`) until
it fits, instead of wrapping every row (one long enough for the pager is left whole: less -S
cuts it at the edge and scrolls sideways). Work is done column by column so the common case (ASCII text
and numbers) runs in C: map, join, ljust.
"""

from __future__ import annotations

import itertools
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from itertools import chain, repeat
from operator import contains
from typing import Any

from opsh.shell.cells import NumericName
from opsh.shell.output import Sink

CHUNK = 2000
ELLIPSIS = "…"
HEADER_PADDING = 2  # a column is at least its header and two (as tabulate drew small tables)
_SHORT = 12  # a column this narrow is never cut on a narrow terminal
_MIN_CUT = 8  # nor is a longer one cut below this (or its header, up to _SHORT)

Texts = Callable[[Sequence[Any]], Sequence[str]]
Numeric = Callable[[Sequence[Any]], bool]


def draw(headers: list[str], rows: Iterator[Sequence[Any]], sink: Sink, texts: Texts, numeric: Numeric) -> int:
    """Write the table to `sink`; `texts` turns one column's values into their cells,
    `numeric` says whether a column is right-aligned. Returns the number of rows."""
    ncol = len(headers)
    layout: Layout | None = None
    count = 0
    while chunk := list(itertools.islice(rows, CHUNK)):
        raw = _columns(chunk, ncol)
        columns = [texts(c) for c in raw]
        if layout is None:
            limit = sink.table_width(len(chunk) + 4)
            right = [isinstance(h, NumericName) or numeric(c) for h, c in zip(headers, raw, strict=True)]
            layout = Layout.measure(headers, columns, right, limit)
            _write(sink, layout.head(headers))
        else:
            layout.grow(columns)
        sink.write(layout.body(columns))
        count += len(chunk)
    if layout is None:
        layout = Layout.measure(headers, [[] for _ in headers], [False] * ncol, sink.table_width(4))
        _write(sink, layout.head(headers))
    _write(sink, layout.rule("+", "+"))
    return count


def _write(sink: Sink, pieces: Iterable[str]) -> None:
    """Rules and the heading a piece at a time: a column 64 MB wide makes each rule 64 MB, and
    one string of all of them would hold several at once."""
    for piece in pieces:
        sink.write(piece)


@dataclass
class Layout:
    """Column widths and alignment, from the first chunk (later chunks may widen a column up
    to its cap). On a narrow terminal, `shown` columns are drawn and the rest stand behind one
    `…` column."""

    widths: list[int]
    right: list[bool]
    shown: int
    caps: list[int] | None = None
    hidden: bool = False  # columns after `shown` are left out (a `…` column stands for them)

    @classmethod
    def measure(cls, headers: list[str], columns: list[Sequence[str]], right: list[bool], limit: int | None) -> Layout:
        content = [_column_width(c) for c in columns]
        natural = [max(width_of(h) + HEADER_PADDING, w) for h, w in zip(headers, content, strict=True)]
        if limit is None or _frame(len(natural)) + sum(natural) <= limit:
            return cls(natural, right, len(natural))
        need = [max(width_of(h), w) for h, w in zip(headers, content, strict=True)]
        if _frame(len(need)) + sum(need) <= limit:  # dropping the header padding is enough
            return cls(need, right, len(need))
        floors = [_floor(n, h) for n, h in zip(need, headers, strict=True)]
        shown = len(need)
        while shown > 1 and _frame(shown, shown < len(need)) + sum(floors[:shown]) > limit:
            shown -= 1
        budget = limit - _frame(shown, shown < len(need))
        caps = cut_widest(need[:shown], floors[:shown], budget)
        return cls(caps, right[:shown], shown, list(caps), shown < len(need))

    def grow(self, columns: list[Sequence[str]]) -> None:
        for i, column in enumerate(columns[: self.shown]):
            wider = max(self.widths[i], _column_width(column))
            self.widths[i] = min(wider, self.caps[i]) if self.caps else wider

    def _drawn(self, cells: list[Sequence[str]]) -> tuple[list[Sequence[str]], list[int], list[bool]]:
        """The shown columns, plus the `…` column when some are left out."""
        drawn, widths, right = cells[: self.shown], self.widths, self.right
        if self.hidden:
            rows = len(cells[0]) if cells else 0
            drawn, widths, right = [*drawn, [ELLIPSIS] * rows], [*widths, 1], [*right, False]
        return drawn, widths, right

    def rule(self, edge: str, cross: str) -> Iterator[str]:
        widths = self.widths + ([1] if self.hidden else [])
        yield edge
        for index, width in enumerate(widths):
            if index:
                yield cross
            yield "-" * (width + 2)
        yield edge + "\n"

    def head(self, headers: list[str]) -> Iterator[str]:
        yield from self.rule("+", "+")
        drawn, widths, right = self._drawn([[h] for h in headers])
        yield "| "
        for index, (column, width, align) in enumerate(zip(drawn, widths, right, strict=True)):
            if index:
                yield " | "
            yield _pad(_cut(column[0], width), width, align)
        yield " |\n"
        yield from self.rule("|", "+")

    def body(self, columns: list[Sequence[str]]) -> str:
        drawn, widths, right = self._drawn(columns)
        padded = [_pad_column(column, w, r) for column, w, r in zip(drawn, widths, right, strict=True)]
        if any(map(contains, chain.from_iterable(padded), repeat("\n"))):  # in C, cell by cell
            return "".join(_multiline_row(cells, widths, right) for cells in zip(*padded, strict=True))
        # One join, not `"| " + ... + " |"`: each `+` would copy the whole chunk (a 64 MB cell) again.
        return "".join(("| ", " |\n| ".join(map(" | ".join, zip(*padded, strict=True))), " |\n"))


def _floor(need: int, header: str) -> int:
    """How narrow a column may be cut: not at all when short, else to its header (up to
    _SHORT) or _MIN_CUT."""
    return need if need <= _SHORT else max(_MIN_CUT, min(width_of(header), _SHORT))


def _frame(columns: int, more: bool = False) -> int:
    """Screen columns taken by the box itself (`| ` + ` | ` between + ` |`), and by the one-cell
    `…` column when there is one."""
    return 3 * (columns + more) + 1 + more


def _columns(chunk: list[Sequence[Any]], ncol: int) -> list[Sequence[Any]]:
    """The chunk column by column; short rows are padded with None (shown as NULL)."""
    if len(set(map(len, chunk))) > 1 or (chunk and len(chunk[0]) != ncol):
        chunk = [(list(row) + [None] * ncol)[:ncol] for row in chunk]
    return list(zip(*chunk, strict=True)) if chunk else [() for _ in range(ncol)]


def _column_width(column: Sequence[str]) -> int:
    # Joined to be checked in one C call (a copy for a moment, which never holds as much as
    # writing a line does: a 64 MB cell's line and its encoding).
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


def cut_widest(need: list[int], floors: list[int], budget: int) -> list[int]:
    """Widths within `budget`, cutting the widest columns first, none below its floor (the
    box's cut cells, and SQL's wrapped `\\d`)."""

    def capped(cap: int) -> list[int]:
        return [min(w, max(cap, floor)) for w, floor in zip(need, floors, strict=True)]

    low, high = 0, max(need, default=0)  # the largest cap whose widths fit the budget
    while low < high:
        mid = (low + high + 1) // 2
        if sum(capped(mid)) <= budget:
            low = mid
        else:
            high = mid - 1
    return capped(low)


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
            _pad(_cut(part[n] if n < len(part) else "", w), w, r)
            for part, w, r in zip(split, widths, right, strict=True)
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
    size = len(text) + max(width - width_of(text), 0)  # in characters: wide ones take two cells
    return text.rjust(size) if right else text.ljust(size)
