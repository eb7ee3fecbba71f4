"""What SQL statements give back, as Results: rows streamed as they arrive, counts of rows
affected with the server's note and warnings, the time taken, and `\\d TABLE`'s one table of
columns, keys and references.

The output adapts to the format the renderer chose (the Result's `present` hook runs first):
JSON and vertical output get distinct column names (`a.id, b.id` -> `id`, `id_2`), CSV can
write NULL as a marker of its own (`set csv_null '\\N'`), and with `set auto_vertical on` a
table wider than the terminal is shown vertically, as mycli does.

MySQL's cells are the server's text (drivers.py), and each format gets them as it needs them:
tables, CSV and vertical output the text itself (a table right-aligns the columns the mysql
client does, by type), plain the text escaped as `mariadb -B` escapes it (a backslash, tab,
newline and NUL as `\\\\`, `\\t`, `\\n`, `\\0`, so each row stays one line), JSON and YAML typed
values; so does anything that reads the rows without choosing a format (`sql --on` merging).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from itertools import chain
from typing import Any

from opsh.commands.sql.runner import ResultSet, Run
from opsh.shell import formats
from opsh.shell.cells import NumericName
from opsh.shell.result import Result

PEEK_ROWS = 200  # rows looked at to decide whether a table fits the terminal
# How a RowStream hands its MySQL rows out (see the module's docstring).
TYPED, TEXT, TABLE, ESCAPED = "typed", "text", "table", "escaped"
_ESCAPES = (("\\", "\\\\"), ("\0", "\\0"), ("\t", "\\t"), ("\n", "\\n"))


@dataclass
class Presentation:
    """How one statement's results are shown; shared by all its result sets."""

    started: float
    timing: bool = True
    note: str | None = None  # said once, before the first status (e.g. "reconnected ...")
    csv_null: str = ""  # NULL in CSV output ("" as the csv module writes None)
    auto_vertical: bool = False
    # What follows the statement's last result, given its warning count (\\W: SHOW WARNINGS).
    after: Callable[[int], Result | None] | None = None
    warnings: int = 0

    def take_note(self) -> str | None:
        note, self.note = self.note, None
        return note


def present(run: Run, head: ResultSet | None, shown: Presentation) -> Result:
    """The statement's first Result now; each further result set when the renderer gets to it
    (`then`), so a procedure's results stream one after another."""
    if head is None:
        return Result.empty(status=shown.take_note() or "")

    def follow() -> Result | None:
        following = run.next_set()
        if following is not None:
            return present(run, following, shown)
        return shown.after(shown.warnings) if shown.after is not None else None

    if head.headers is None:
        shown.warnings += head.warnings
        status = _join(shown.take_note(), _timed(_affected(head), shown))
        if head.info:
            status += f"; {head.info}"
        return Result.empty(status=status, then=follow)
    note = shown.take_note()
    result = Result.table(_names(head), [], then=follow)

    def finished(count: int, warnings: int) -> None:
        shown.warnings += warnings
        rows = f"{count} row{'s' if count != 1 else ''}" + _warning_count(warnings)
        result.status = _join(note, _timed(rows, shown))

    def stopped(count: int) -> None:
        """The reader left first (the pager quit): how far the output got, never `0 rows`."""
        result.status = _join(note, f"output stopped after {count} row{'s' if count != 1 else ''}")

    stream = RowStream(run, finished, stopped, head.columns, head.encoding)
    result.rows = stream
    result.present = _adapter(result, stream, shown)
    return result


def _adapter(result: Result, stream: RowStream, shown: Presentation) -> Callable[[str, Any], str | None]:
    def adapt(fmt: str, sink: Any) -> str | None:
        headers = result.headers or []
        stream.mode = cells_for(fmt)
        if formats.keyed(fmt):
            result.headers = distinct(headers)
        elif fmt == "csv":
            stream.null = shown.csv_null  # "" too: the CSV writer's quick way takes only text
        elif fmt == "table" and shown.auto_vertical and sink.is_terminal and _too_wide(headers, stream, sink):
            from opsh.shell.render import render

            render(Result.table(distinct(headers), stream), "vertical", sink)
            return ""
        return None

    return adapt


def _names(head: ResultSet) -> list[str]:
    """The column names; those of columns the mysql client right-aligns (numbers, by type) are
    NumericNames, so a table aligns them whatever text their cells hold."""
    headers = head.headers or []
    if not head.columns:
        return headers
    return [NumericName(h) if c.numeric else h for h, c in zip(headers, head.columns, strict=False)]


def cells_for(fmt: str) -> str:
    """How a format wants the server's text (see the module's docstring)."""
    if formats.keyed(fmt) and fmt != "vertical":
        return TYPED
    if fmt in ("csv", "vertical"):
        return TEXT
    return ESCAPED if fmt == "plain" else TABLE


def _too_wide(headers: list[str], stream: RowStream, sink: Any) -> bool:
    return table_width(headers, stream.peek(PEEK_ROWS)) > int(sink.width)


def distinct(headers: list[str]) -> list[str]:
    """Column names made unique for keyed output: a second `id` becomes `id_2` (or `id_3`
    if the result has an `id_2` of its own)."""
    if len(set(headers)) == len(headers):
        return headers
    named = set(headers)
    used: set[str] = set()
    out: list[str] = []
    for name in headers:
        candidate, n = name, 1
        while candidate in used or (candidate != name and candidate in named):
            n += 1
            candidate = f"{name}_{n}"
        used.add(candidate)
        out.append(candidate)
    return out


def table_width(headers: list[str], rows: Sequence[Sequence[Any]]) -> int:
    """The width of the boxed table these rows would draw (display width: CJK counts double)."""
    from prompt_toolkit.utils import get_cwidth

    from opsh.shell.render import shown as cell_text

    widths = [get_cwidth(h) for h in headers]
    for row in rows:
        for index, value in enumerate(row[: len(widths)]):
            widths[index] = max(widths[index], get_cwidth(cell_text(value)))
    return sum(widths) + 3 * len(widths) + 1


def _timed(status: str, shown: Presentation) -> str:
    return f"{status} in {time.perf_counter() - shown.started:.3f}s" if shown.timing else status


class RowStream:
    """The rows of one result for the renderer; closing it early cancels the statement."""

    def __init__(
        self,
        run: Run,
        finished: Callable[[int, int], None],
        stopped: Callable[[int], None] | None = None,
        columns: list[Any] | None = None,
        encoding: str | None = None,
    ) -> None:
        self.run = run
        self.count = 0
        self.done = False
        self.null: str | None = None  # written for NULL (CSV's marker), when set
        self.columns = columns  # MySQL's (drivers.Column): its cells are text, shown per `mode`
        self.mode = TYPED
        self.encoding = encoding  # the driver's cells are bytes, text in this encoding (decoded here)
        self._finished = finished
        self._stopped = stopped  # told the rows handed out when the output ends before the rows
        self._chunks = run.chunks()
        self._peeked: list[list[tuple[Any, ...]]] = []
        self._rows: Iterator[Any] | None = None  # what was handed out (closed with the stream)

    def peek(self, at_least: int) -> list[tuple[Any, ...]]:
        """The first rows (at least `at_least` if there are that many), read ahead and kept."""
        while sum(map(len, self._peeked)) < at_least:
            chunk = next(self._chunks, None)
            if chunk is None:
                break
            self._peeked.append(chunk)
        return [row for chunk in self._peeked for row in self._text(chunk)]

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        self._rows = self._generate()
        return self._rows

    def _generate(self) -> Iterator[tuple[Any, ...]]:
        while self._peeked:
            yield from self._convert(self._peeked.pop(0))
        for chunk in self._chunks:
            rows = self._convert(chunk)
            del chunk  # the driver's cells, once converted, are not kept while the rows are written
            yield from rows
        self.done = True
        self._finished(self.count, self.run.warnings)

    def encoded_chunks(self) -> tuple[str, Iterator[list[tuple[Any, ...]]]] | None:
        """For a writer that joins bytes itself (CSV): the encoding and the rows a chunk at a
        time as the driver gave them, NULL as the `null` marker; None when the cells are text
        already. (A wrapper that keeps the rows, as a recording does, has no such method: it
        gets the rows as text.)"""
        encoding = self.encoding
        if encoding is None:
            return None
        chunks = self._rows = self._encoded(encoding)
        return encoding, chunks

    def _encoded(self, encoding: str) -> Iterator[list[tuple[Any, ...]]]:
        null = (self.null or "").encode(encoding, "surrogateescape")
        while self._peeked:
            yield self._counted(nulls_as(self._peeked.pop(0), null))
        for chunk in self._chunks:
            yield self._counted(nulls_as(chunk, null))
        self.done = True
        self._finished(self.count, self.run.warnings)

    def _counted(self, chunk: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        self.count += len(chunk)
        return chunk

    def _text(self, chunk: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        if self.encoding is None:
            return chunk
        from opsh.commands.sql.drivers import decoded

        return decoded(chunk, self.encoding)

    def _convert(self, chunk: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
        self.count += len(chunk)
        chunk = self._text(chunk)
        if self.columns:
            chunk = self._shaped(chunk, self.columns)
        null = self.null
        if null is None:
            return chunk
        return nulls_as(chunk, null)

    def _shaped(self, chunk: list[tuple[Any, ...]], columns: list[Any]) -> list[tuple[Any, ...]]:
        mode = self.mode
        if mode == TEXT or not chunk:
            return chunk
        if mode == TYPED:
            from opsh.commands.sql.drivers import typed

            return typed(columns, chunk)
        return chunk if mode == TABLE else _escaped(chunk)

    def close(self) -> None:
        if self._rows is not None:
            self._rows.close()  # type: ignore[attr-defined]
        if not self.done:
            self.run.cancel()
            if self._stopped is not None:
                self._stopped(self.count)


def nulls_as(chunk: list[tuple[Any, ...]], null: Any) -> list[tuple[Any, ...]]:
    """The chunk with NULL written as `null` (text, or bytes for bytes cells). A join finds
    whether there is any NULL at all (it stops at the first cell that is not text; comparing each
    cell to None costs ten times more); a chunk with one is rebuilt from its flattened cells."""
    join = (b"" if isinstance(null, bytes) else "").join
    try:
        join(chain.from_iterable(chunk))
        return chunk
    except TypeError:
        pass
    width = len(chunk[0])
    if any(len(row) != width for row in chunk):
        return [tuple(null if value is None else value for value in row) for row in chunk]
    cells = [null if value is None else value for value in chain.from_iterable(chunk)]
    return list(zip(*[iter(cells)] * width, strict=True))


def _escaped(chunk: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """Backslash, NUL, tab and newline written as `mariadb -B` writes them."""
    values = [list(column) for column in zip(*chunk, strict=True)]
    changed = False
    for index, column in enumerate(values):
        text = "".join(filter(None, column))
        if not any(char in text for char, _ in _ESCAPES):
            continue
        changed = True
        values[index] = [None if v is None else _escape(v) for v in column]
    return list(zip(*values, strict=True)) if changed else chunk


def _escape(text: str) -> str:
    for char, written in _ESCAPES:
        text = text.replace(char, written)
    return text


def _affected(head: ResultSet) -> str:
    if head.rowcount is None or head.rowcount < 0:
        status = "Query OK"
    else:
        status = f"Query OK, {head.rowcount} row{'s' if head.rowcount != 1 else ''} affected"
    return status + _warning_count(head.warnings)


def _warning_count(warnings: int) -> str:
    return f", {warnings} warning{'s' if warnings != 1 else ''}" if warnings else ""


def _join(note: str | None, status: str) -> str:
    return f"{note}; {status}" if note else status


def describe_result(
    table: str,
    headers: list[str],
    columns: list[tuple[Any, ...]],
    indexes: list[tuple[str, bool, list[str]]],
    foreign: list[tuple[str, str]],
) -> Result:
    """One row per column, with the indexes it is part of and what it references.

    One table (not three) so that `--format json` and `\\> file` get all of it. The `default`
    column is empty for a column without a default, `NULL` for DEFAULT NULL (as the server
    writes it), never `<null>`, which would read as either.
    """
    if "default" in headers:
        at = headers.index("default")
        columns = [(*row[:at], "" if row[at] is None else row[at], *row[at + 1 :]) for row in columns]
    member: dict[str, list[str]] = {}
    for index, unique, names in indexes:
        for position, column in enumerate(names, 1):
            label = index + (" unique" if unique and index != "PRIMARY" else "")
            if len(names) > 1:
                label += f" {position}/{len(names)}"
            member.setdefault(str(column), []).append(label)
    references: dict[str, list[str]] = {}
    for column, target in foreign:
        references.setdefault(str(column), []).append(str(target))
    rows = [
        [*row, ", ".join(member.get(str(row[0]), [])), ", ".join(references.get(str(row[0]), []))] for row in columns
    ]
    status = f"{len(rows)} column{'s' * (len(rows) != 1)} in {table}"
    return Result.table([*headers, "indexes", "references"], rows, status=status)


MIN_WRAP = 8  # a column wider than this is not wrapped narrower (nor than its header)


def fit_description(result: Result, auto_vertical: bool, boxed: bool) -> Result:
    """`\\d TABLE` is read whole: on a terminal too narrow for it, its cells wrap inside the
    box; with `auto_vertical` (or when even wrapped it cannot fit) it is shown vertically. A
    file or a pipe gets it as it is, and so does a table style other than the box."""

    def fit(fmt: str, sink: Any) -> str | None:
        if fmt != "table" or not boxed or not sink.is_terminal:
            return None
        from opsh.shell.render import render, shown

        headers = result.headers or []
        rows = [[shown(value) for value in row] for row in result.rows or []]
        if table_width(headers, rows) <= int(sink.width):
            return None
        widths = None if auto_vertical else _wrap_widths(headers, rows, int(sink.width))
        if widths is None:
            render(Result.table(headers, rows), "vertical", sink)
            return ""
        wrapped = [[wrap_cell(text, width) for text, width in zip(row, widths, strict=True)] for row in rows]
        render(Result.table(headers, wrapped), "table", sink)  # the Result itself stays whole (transcripts)
        return ""

    result.present = fit
    return result


def _wrap_widths(headers: list[str], rows: list[list[str]], width: int) -> list[int] | None:
    """Column widths that fit `width`, narrowing the widest columns first (the first one,
    the column's name, stays whole unless it is very long); None when even the narrowest
    allowed do not fit."""
    from prompt_toolkit.utils import get_cwidth

    need = [max([get_cwidth(h)] + [_widest_line(row[i]) for row in rows]) for i, h in enumerate(headers)]
    floors = [min(n, max(get_cwidth(h), MIN_WRAP)) for n, h in zip(need, headers, strict=True)]
    if need and need[0] <= width // 4:
        floors[0] = need[0]
    budget = width - (3 * len(need) + 1)
    if sum(floors) > budget:
        return None
    from opsh.shell.table import cut_widest

    return cut_widest(need, floors, budget)


def _widest_line(text: str) -> int:
    from prompt_toolkit.utils import get_cwidth

    return max(map(get_cwidth, text.split("\n")))


def wrap_cell(text: str, width: int) -> str:
    """`text` in lines of at most `width` display cells, broken after a space or a comma or
    before a parenthesis where it can be (`enum('G','PG',` / `'R')`), anywhere in a word
    longer than a line."""
    return "\n".join(_wrap_line(line, width) for line in text.split("\n"))


def _wrap_line(text: str, width: int) -> str:
    from prompt_toolkit.utils import get_cwidth

    if get_cwidth(text) <= width:
        return text
    lines: list[str] = []
    line = ""
    for piece in re.split(r"(?<=[ ,])|(?=\()", text):
        if get_cwidth(line + piece.rstrip()) <= width:
            line += piece
            continue
        if line.strip():
            lines.append(line.rstrip())
        line = piece.lstrip()
        while get_cwidth(line) > width:
            head = _cells_prefix(line, width)
            lines.append(head)
            line = line[len(head) :]
    if line.strip():
        lines.append(line.rstrip())
    return "\n".join(lines)


def _cells_prefix(text: str, width: int) -> str:
    """The longest start of `text` that takes at most `width` display cells (at least one character)."""
    from prompt_toolkit.utils import get_cwidth

    used = 0
    for index, char in enumerate(text):
        used += get_cwidth(char)
        if used > width:
            return text[: max(index, 1)]
    return text
