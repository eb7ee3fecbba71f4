"""Which MySQL driver a connection uses, and what both drivers hand the rest of SQL mode.

Two drivers speak to MySQL and MariaDB: pymysql, pure Python, which always installs and always
works, and the C extension of mysql-connector-python (`pip install 'opsh[fast]'`), used when it
is installed, which reads rows several times faster. A URL's `?driver=pymysql|connector` (or
OPSH_MYSQL_DRIVER) picks one by name; the test suite runs every SQL test on both.

Both give a result's cells as the server's own text (a DOUBLE's `1e16`, a YEAR's `0000`, a
ZEROFILL's `00042`), as the mysql client prints them: only JSON and YAML, and opsh's own queries,
turn them into typed values (`typed`), by the column's type. A binary value (BLOB, BINARY, BIT)
is its bytes held as text with Python's surrogateescape, so a file gets the exact bytes and a
terminal shows the ones that are not UTF-8 escaped (cells.visible).
"""

from __future__ import annotations

import decimal
import importlib.util
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from itertools import chain
from typing import Any

PYMYSQL = "pymysql"
CONNECTOR = "connector"
DRIVERS = (PYMYSQL, CONNECTOR)
ENVIRONMENT = "OPSH_MYSQL_DRIVER"

# Column types (the protocol's numbers, the same for both drivers).
DECIMAL, TINY, SHORT, LONG, FLOAT, DOUBLE, NULL, TIMESTAMP, LONGLONG, INT24 = range(10)
YEAR, BIT, JSON, NEWDECIMAL, ENUM, SET = 13, 16, 245, 246, 247, 248
TINY_BLOB, MEDIUM_BLOB, LONG_BLOB, BLOB, VAR_STRING, STRING, GEOMETRY, VARCHAR = 249, 250, 251, 252, 253, 254, 255, 15
BINARY_CHARSET = 63
INTEGERS = frozenset({TINY, SHORT, LONG, LONGLONG, INT24, YEAR})
FLOATS = frozenset({FLOAT, DOUBLE})
DECIMALS = frozenset({DECIMAL, NEWDECIMAL})
STRINGS = frozenset({VARCHAR, BIT, TINY_BLOB, MEDIUM_BLOB, LONG_BLOB, BLOB, VAR_STRING, STRING, GEOMETRY, ENUM, SET})
# What the mysql client right-aligns in a table (its IS_NUM).
NUMBERS = INTEGERS | FLOATS | DECIMALS

# The kinds of column `typed` converts; anything else stays text.
INT, REAL, EXACT, BYTES, TEXT, NONE = "int", "real", "exact", "bytes", "text", "none"

FEW_CELLS = 64  # a chunk this small is decoded a cell at a time
# A connection's character set as a Python codec (MySQL's latin1 is Windows-1252).
CODECS = {"utf8mb4": "utf-8", "utf8mb3": "utf-8", "utf8": "utf-8", "latin1": "cp1252", "ascii": "ascii"}


@dataclass(frozen=True, slots=True)
class Column:
    """One column of a result, as the server described it."""

    name: str
    type_code: int
    charsetnr: int

    @property
    def kind(self) -> str:
        code = self.type_code
        if code in INTEGERS:
            return INT
        if code in FLOATS:
            return REAL
        if code in DECIMALS:
            return EXACT
        if code == NULL:
            return NONE
        if code in STRINGS and self.charsetnr == BINARY_CHARSET:
            return BYTES
        return TEXT

    @property
    def numeric(self) -> bool:
        return self.type_code in NUMBERS


def choose(asked: str | None) -> str:
    """The driver for a new handle: the one asked for (URL, environment), else the C one when it
    is installed, else pymysql."""
    wanted = (asked or os.environ.get(ENVIRONMENT) or "").strip().lower()
    if wanted and wanted not in DRIVERS:
        from opsh.shell.errors import UsageError

        raise UsageError(f"unknown MySQL driver {wanted!r}", f"one of: {', '.join(DRIVERS)}")
    if wanted == PYMYSQL or (not wanted and not fast_driver_installed()):
        return PYMYSQL
    if not fast_driver_installed():
        from opsh.shell.errors import UsageError

        raise UsageError("the connector driver is not installed", "pip install 'opsh[fast]' (or ?driver=pymysql)")
    return CONNECTOR


@cache
def fast_driver_installed() -> bool:
    """Whether mysql-connector-python's C extension is there (found, not imported: importing it
    is left to the first connection that uses it)."""
    return importlib.util.find_spec("_mysql_connector") is not None


def codec(charset: str) -> str:
    """The Python codec of a MySQL character set (unknown ones: their own name, else UTF-8)."""
    known = CODECS.get(charset.lower())
    if known:
        return known
    import codecs

    try:
        return codecs.lookup(charset).name
    except LookupError:
        return "utf-8"


# ---------------------------------------------------------------- the server's text, typed


class ExactDecimal(decimal.Decimal):
    """A DECIMAL whose text is the digits the server sent (Decimal itself writes tiny values
    in exponent form: 0.0000000000 -> 0E-10)."""

    __slots__ = ()

    def __str__(self) -> str:
        return format(self, "f")


def exact(text: str) -> decimal.Decimal:
    # str(Decimal) is the server's text except below 1e-6, where it switches to 1E-7 form.
    if text.startswith(("0.000000", "-0.000000")):
        return ExactDecimal(text)
    return decimal.Decimal(text)


def _bytes(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


CONVERTERS: dict[str, Callable[[str], Any]] = {INT: int, REAL: float, EXACT: exact, BYTES: _bytes}
NUMBER_WORDS = {INT: "an integer", REAL: "a floating-point number", EXACT: "a decimal number"}


def typed(columns: Sequence[Column], rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """Rows of server text as typed values: integers, floats, exact DECIMALs, bytes for binary
    columns, everything else (dates included) the server's text.
    A value that does not read as its column's type (from a server that breaks the protocol)
    is one line naming it."""
    converting = [(index, CONVERTERS[c.kind]) for index, c in enumerate(columns) if c.kind in CONVERTERS]
    if not converting or not rows:
        return rows
    values = [list(column) for column in zip(*rows, strict=True)]
    for index, convert in converting:
        try:
            values[index] = [None if v is None else convert(v) for v in values[index]]
        except (ValueError, ArithmeticError):
            raise _unreadable(columns[index], values[index]) from None
    return list(zip(*values, strict=True))


def _unreadable(column: Column, values: list[Any]) -> Exception:
    from opsh.shell.cells import visible
    from opsh.shell.errors import BackendError

    convert = CONVERTERS[column.kind]
    for value in values:
        try:
            if value is not None:
                convert(value)
        except (ValueError, ArithmeticError):
            shown = visible(str(value)[:40])
            return BackendError(
                f"mysql sent `{shown}` in column {visible(column.name)}, which is not {NUMBER_WORDS[column.kind]}",
                "the server broke the protocol; text output shows the value as sent",
            )
    return BackendError(f"mysql sent a value column {visible(column.name)} cannot hold")


# ---------------------------------------------------------------- bytes from the wire, as text


def decoded(rows: list[tuple[Any, ...]], encoding: str = "utf-8") -> list[tuple[Any, ...]]:
    """Rows whose cells are bytes (or bytearray), as text: every byte kept (surrogateescape).
    A chunk at a time, in a handful of C calls: the cells are joined with NUL, decoded once and
    split again, unless a cell holds a NUL itself (then each is decoded alone)."""
    if not rows:
        return rows
    width = len(rows[0])
    if len(rows) * width <= FEW_CELLS:  # a big cell or two: joining would only copy them
        return [tuple(None if v is None else bytes(v).decode(encoding, "surrogateescape") for v in row) for row in rows]
    cells = list(chain.from_iterable(rows))
    nulls = _none_at(cells)
    joined = b"\0".join(cells)
    if joined.count(b"\0") == len(cells) - 1:
        texts: list[Any] = joined.decode(encoding, "surrogateescape").split("\0")
    else:
        texts = [bytes(cell).decode(encoding, "surrogateescape") for cell in cells]
    for at in nulls:
        texts[at] = None
    return list(zip(*[iter(texts)] * width, strict=True))


def _none_at(cells: list[Any]) -> list[int]:
    """Where the NULLs are (each replaced by b"" in `cells`); found by C-level searches."""
    found: list[int] = []
    at = -1
    find = cells.index
    while True:
        try:
            at = find(None, at + 1)
        except ValueError:
            return found
        found.append(at)
        cells[at] = b""


def decode_columns(rows: list[tuple[Any, ...]], binary: Sequence[int]) -> list[tuple[Any, ...]]:
    """Rows whose `binary` columns hold bytes (pymysql's binary values), those as text."""
    if not binary or not rows:
        return rows
    values = [list(column) for column in zip(*rows, strict=True)]
    for index in binary:
        values[index] = [None if v is None else _text(v) for v in values[index]]
    return list(zip(*values, strict=True))


def _text(value: Any) -> str:
    return value if isinstance(value, str) else bytes(value).decode("utf-8", "surrogateescape")


# ---------------------------------------------------------------- what mysql.py asks of a driver


@dataclass
class Settings:
    """What a new connection needs, whichever driver opens it (the password stays in memory)."""

    host: str
    port: int
    user: str
    password: str
    database: str | None
    limit: float  # seconds each read and write of the connect may wait
    socket: str | None = None
    charset: str = "utf8mb4"
    local_infile: bool = False
    tls: Any = None  # pymysql: an SSLContext; connector: the file options (see Tls)
    tls_disabled: bool = False


@dataclass(frozen=True)
class Tls:
    """TLS as the URL asked for it, by file names (the C driver opens the files itself)."""

    required: bool = False
    ca: str | None = None
    cert: str | None = None
    key: str | None = None


class Cursor:
    """One statement's results, read on SQL mode's worker thread (runner.py): column names in
    `description`, `columns`, rows of text a chunk at a time (bytes when `encoding` is set: text
    in that encoding), the next result set, and what a statement without rows did."""

    encoding: str | None = None
    description: list[tuple[Any, ...]] | None = None
    columns: list[Column] | None = None
    rowcount: int = -1
    lastrowid: int | None = None
    warning_count: int = 0
    info: str = ""

    def fetchmany(self, size: int) -> list[tuple[Any, ...]]:
        raise NotImplementedError

    def nextset(self) -> bool:
        raise NotImplementedError

    def close(self) -> None:
        raise NotImplementedError


class Link:
    """One connection to the server, whichever driver holds it."""

    driver = ""

    def run(self, sql: str | bytes, params: tuple[Any, ...] = ()) -> Cursor:
        """Send a statement (`%s` in `sql` takes `params`, quoted); its rows are read unbuffered."""
        raise NotImplementedError

    def rows(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        """A small query of opsh's own, all its rows (as text)."""
        cursor = self.run(sql, params)
        try:
            found: list[tuple[Any, ...]] = []
            while chunk := cursor.fetchmany(1000):
                found += decoded(chunk, cursor.encoding) if cursor.encoding else chunk
            return found
        finally:
            cursor.close()

    def thread_id(self) -> int:
        raise NotImplementedError

    @property
    def server_status(self) -> int:
        raise NotImplementedError

    @property
    def is_open(self) -> bool:
        raise NotImplementedError

    def fileno(self) -> int | None:
        """The connection's socket, for a look at whether the server hung up (None: closed)."""
        raise NotImplementedError

    def ping(self) -> None:
        raise NotImplementedError

    def rollback(self) -> None:
        raise NotImplementedError

    def close(self) -> None:
        """Say goodbye and close (a connection nobody is reading)."""
        raise NotImplementedError

    def force_close(self) -> None:
        """Drop the connection at once, without a word to the server."""
        raise NotImplementedError

    def limit_reads(self, seconds: float | None) -> None:
        """Each later read and write waits at most `seconds` (None: as long as it takes)."""
        raise NotImplementedError

    def reset_after_malformed(self) -> None:
        """A reply did not parse: the connection is out of step with the server; drop it."""
        self.force_close()


def open_link(driver: str, settings: Settings, watch: Callable[[Any], None]) -> Link:
    """A new connection through `driver`; `watch(sock)` is given its socket as soon as it
    exists (the connect's Deadline)."""
    if driver == CONNECTOR:
        from opsh.commands.sql import connector_link

        return connector_link.connect(settings, watch)
    from opsh.commands.sql import pymysql_link

    return pymysql_link.connect(settings, watch)


def error_code(exc: BaseException) -> int | None:
    """The MySQL error number of either driver's exception."""
    errno = getattr(exc, "errno", None)
    if isinstance(errno, int) and type(exc).__module__ == "_mysql_connector":
        return errno
    args = exc.args
    return args[0] if args and isinstance(args[0], int) else None


def error_message(exc: BaseException) -> str:
    """Either driver's message, on one line."""
    msg = getattr(exc, "msg", None)
    if isinstance(msg, str) and type(exc).__module__ == "_mysql_connector":
        text = msg
    else:
        args = exc.args
        text = str(args[1]) if len(args) > 1 else str(exc)
    return " ".join(text.split())
