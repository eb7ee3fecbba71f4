"""SQLite's REALs in the sqlite3 shell's spelling: `1.0e+16`, `0.3`, `2500.0`, where Python
would write `1e+16`, `0.30000000000000004`, `2500.0`.

The shell prints a REAL with SQLite's own printf, `%!.15g`: 15 significant digits, and a `.0`
when there would be no point. Python's `%.15g` gives the same digits except where the 16th
significant digit is a 5: SQLite rounds with long-double arithmetic and sometimes rounds that
half down (550 of 300,000 random doubles). Those few are asked of SQLite itself, in one query
a chunk, on the connection the rows came from (tests/sql/test_values.py compares with the
sqlite3 shell). A cell stays a float (JSON, YAML and sums get the exact value); only its text
is SQLite's.
"""

from __future__ import annotations

import math
from itertools import chain
from typing import Any

BATCH = 500  # values per printf query (SQLite allows at least 999 parameters)


class Real(float):
    """A REAL cell: a float, whose text is the sqlite3 shell's."""

    text: str  # set when SQLite itself wrote it

    def __str__(self) -> str:
        text = self.__dict__.get("text")
        return text if text is not None else spelled(self)


def spelled(value: float) -> str:
    """`%!.15g` as SQLite writes it (where Python's rounding agrees: see `needs_sqlite`)."""
    if math.isinf(value):
        return "Inf" if value > 0 else "-Inf"
    if value == 0:
        return "0.0"  # -0.0 too
    text = f"{value:.15g}"
    mantissa, e, exponent = text.partition("e")
    if "." not in mantissa:
        mantissa += ".0"
    return mantissa + e + exponent


def needs_sqlite(value: float) -> bool:
    """Whether the 16th significant digit is a 5, where SQLite's rounding may differ."""
    return math.isfinite(value) and f"{value:.16e}".lstrip("-")[16] == "5"


def with_sqlite_text(rows: list[tuple[Any, ...]], conn: Any) -> list[tuple[Any, ...]]:
    """The rows with every float a Real (the same rows when there is none)."""
    if float not in set(map(type, chain.from_iterable(rows))):
        return rows
    out = [tuple(Real(v) if type(v) is float else v for v in row) for row in rows]
    doubtful = [v for v in chain.from_iterable(out) if type(v) is Real and needs_sqlite(v)]
    for start in range(0, len(doubtful), BATCH):
        batch = doubtful[start : start + BATCH]
        columns = ", ".join(["printf('%!.15g', ?)"] * len(batch))
        texts = conn.execute(f"SELECT {columns}", [float(v) for v in batch]).fetchone()
        for value, text in zip(batch, texts, strict=True):
            value.text = text
    return out


class SpelledCursor:
    """A cursor whose rows carry SQLite's text for their REALs (what the runner reads)."""

    def __init__(self, cursor: Any, conn: Any) -> None:
        self._cursor = cursor
        self._conn = conn

    def fetchmany(self, size: int) -> list[tuple[Any, ...]]:
        return with_sqlite_text(self._cursor.fetchmany(size), self._conn)

    def fetchall(self) -> list[tuple[Any, ...]]:
        return with_sqlite_text(self._cursor.fetchall(), self._conn)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._cursor, name)
