"""Values exactly as psql prints them, and typed where the output has types (JSON, YAML).

Results are asked for in text format and every value is kept as the server's own text, so
numeric, timestamptz (in the session's zone), interval, arrays, json/jsonb, bytea (hex), uuid,
inet and ranges read as psql shows them. Integers become ints (their text is the same), numeric
a Decimal whose text is the server's digits, floating point a float whose text is the server's
(`1e+15`, not `1000000000000000.0`), booleans `t` / `f` that JSON writes as true / false. So a
table or CSV shows psql's text and JSON gets numbers, booleans, numeric as strings (as MySQL's
DECIMAL) and everything else as the text psql shows.

CSV of a plain query is written by the server itself (`COPY (query) TO STDOUT`): the bytes
psql's own COPY writes, a million rows at the speed of the wire.
"""

from __future__ import annotations

import decimal
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, Any

from opsh.commands.sql.render import TYPED, cells_for

if TYPE_CHECKING:
    from psycopg import Connection

INT_TYPES = ("int2", "int4", "int8", "oid")
FLOAT_TYPES = ("float4", "float8")
NON_FINITE = frozenset({"NaN", "Infinity", "-Infinity"})


class PgNumeric(decimal.Decimal):
    """A numeric whose text is the server's digits (Decimal writes 0E-10 for 0.0000000000)."""

    __slots__ = ()

    def __str__(self) -> str:
        return format(self, "f")


class PgFloat(float):
    """A float that reads as the server wrote it; JSON still gets a number."""

    __slots__ = ("text",)
    text: str

    def __new__(cls, text: str) -> PgFloat:
        value = super().__new__(cls, text)
        value.text = text
        return value

    def __str__(self) -> str:
        return self.text


class PgBool(str):
    """`t` / `f` as psql shows a boolean; `truth` for JSON."""

    __slots__ = ()

    @property
    def truth(self) -> bool:
        return self == "t"


TRUE, FALSE = PgBool("t"), PgBool("f")


def use_text(conn: Connection[Any]) -> None:
    """Make every value of `conn`'s results the server's text (see the module's docstring)."""
    from psycopg import postgres
    from psycopg.adapt import Loader
    from psycopg.types.string import TextLoader

    class NumericText(Loader):
        def load(self, data: Any) -> Any:
            return PgNumeric(bytes(data).decode("ascii"))

    class FloatText(Loader):
        def load(self, data: Any) -> Any:
            text = bytes(data).decode("ascii")
            return text if text in NON_FINITE else PgFloat(text)

    class BoolText(Loader):
        def load(self, data: Any) -> Any:
            return TRUE if bytes(data) == b"t" else FALSE

    adapters = conn.adapters
    for info in postgres.types:
        array = getattr(info, "array_oid", 0)
        if array:
            adapters.register_loader(array, TextLoader)
        if info.name in INT_TYPES:
            continue
        loader: type[Loader] = TextLoader
        if info.name == "numeric":
            loader = NumericText
        elif info.name in FLOAT_TYPES:
            loader = FloatText
        elif info.name == "bool":
            loader = BoolText
        adapters.register_loader(info.oid, loader)


def typed(row: Sequence[Any]) -> tuple[Any, ...]:
    """A row as JSON and YAML write it: booleans as booleans."""
    return tuple(value.truth if type(value) is PgBool else value for value in row)


class TypedRows:
    """The rows of a result, booleans typed, closing (cancelling) the stream when closed."""

    def __init__(self, rows: Any) -> None:
        self.rows = rows

    def __iter__(self) -> Iterator[tuple[Any, ...]]:
        return map(typed, self.rows)

    def close(self) -> None:
        close = getattr(self.rows, "close", None)
        if close is not None:
            close()


def rows_for(rows: Any, fmt: str) -> Any:
    """The rows a format gets: typed booleans where MySQL's cells are typed too (json, yaml:
    `cells_for`), psql's `t` and `f` in the others."""
    return TypedRows(rows) if rows is not None and cells_for(fmt) == TYPED else rows
