"""What SQL statements give back, as Results: rows streamed as they arrive, counts of rows
affected, the time taken, and `\\d TABLE`'s one table of columns, keys and references."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

from opsh.commands.sql.runner import ResultSet, Run
from opsh.shell.result import Result


def present(run: Run, head: ResultSet | None, started: float, note: str | None, timing: bool) -> Result:
    """The statement's first Result now; each further result set when the renderer gets to it
    (`then`), so a procedure's results stream one after another."""
    if head is None:
        return Result.empty(status=note or "")

    def follow() -> Result | None:
        following = run.next_set()
        return None if following is None else present(run, following, started, None, timing)

    if head.headers is None:
        return Result.empty(status=_join(note, _timed(_affected(head), started, timing)), then=follow)
    result = Result.table(head.headers, [], then=follow)

    def finished(count: int) -> None:
        result.status = _join(note, _timed(f"{count} row{'s' if count != 1 else ''}", started, timing))

    result.rows = RowStream(run, finished)
    return result


def _timed(status: str, started: float, timing: bool) -> str:
    return f"{status} in {time.perf_counter() - started:.3f}s" if timing else status


class RowStream:
    """The rows of one result for the renderer; closing it early cancels the statement."""

    def __init__(self, run: Run, finished: Callable[[int], None]) -> None:
        self.run = run
        self.count = 0
        self.done = False
        self._finished = finished
        self._rows: Iterator[tuple[Any, ...]] | None = None

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        self._rows = self._generate()
        return self._rows

    def _generate(self) -> Iterator[tuple[Any, ...]]:
        for chunk in self.run.chunks():
            self.count += len(chunk)
            yield from chunk
        self.done = True
        self._finished(self.count)

    def close(self) -> None:
        if self._rows is not None:
            self._rows.close()  # type: ignore[attr-defined]
        if not self.done:
            self.run.cancel()


def _affected(head: ResultSet) -> str:
    if head.rowcount is None or head.rowcount < 0:
        status = "Query OK"
    else:
        status = f"Query OK, {head.rowcount} row{'s' if head.rowcount != 1 else ''} affected"
    if head.warnings:
        status += f", {head.warnings} warning{'s' if head.warnings != 1 else ''}"
    return status


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

    One table (not three) so that `--format json` and `\\> file` get all of it.
    """
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
