"""How the SQL drivers' exceptions read (pymysql's, mysql-connector-python's C extension's and
sqlite3's): the server's error code and its message on one line, `mysql 1146: Table 'shop.nope'
doesn't exist`.

Found by the core's describe() (shell/errors.py) by the module that defines the exception's
class; nothing here imports a driver. A server's bytes that do not parse (a cell longer than its
row, a cut error packet) fail inside pymysql as plain Python errors, which no table can tell
from a bug: the MySQL handle catches them where it reads the connection and words them here,
as the mariadb client does ("malformed packet"). The C driver's client library checks packets
itself and says so with its own error number (2027).
"""

from __future__ import annotations

import struct

from opsh.shell.errors import ConnectionLost, Described, ErrorTable, in_own_words

# What pymysql raises while reading a packet that is not what the protocol says: a field read
# past the packet's end (AssertionError, struct.error, IndexError), an unknown character set
# (KeyError), a value its column type cannot hold (ValueError, decimal's ArithmeticError).
MALFORMED: tuple[type[BaseException], ...] = (
    AssertionError,
    struct.error,
    IndexError,
    KeyError,
    ValueError,
    ArithmeticError,
)
CR_MALFORMED_PACKET = 2027  # the C client library's "Malformed packet"
CR_UNKNOWN_ERROR = 2000  # what it says of an error packet cut short


def _mysql(exc: BaseException) -> Described:
    if len(exc.args) >= 2 and isinstance(exc.args[0], int):
        # Server messages quote the statement, newlines included: keep the error on one line.
        return Described.failure(f"mysql {exc.args[0]}: {_one_line(str(exc.args[1]))}")
    return in_own_words("mysql", exc)


def _connector(exc: BaseException) -> Described:
    """mysql-connector-python's C extension: MySQLInterfaceError with errno and msg."""
    code, message = getattr(exc, "errno", None), getattr(exc, "msg", None)
    if isinstance(code, int) and code and isinstance(message, str):
        return Described.failure(f"mysql {code}: {_one_line(message)}")
    return in_own_words("mysql", exc)


def is_malformed(exc: BaseException) -> bool:
    """Whether a driver's failure means a reply that does not parse (see the module's docstring)."""
    if type(exc).__module__ == "_mysql_connector":
        return getattr(exc, "errno", None) in (CR_MALFORMED_PACKET, CR_UNKNOWN_ERROR)
    return isinstance(exc, MALFORMED) and _raised_by_pymysql(exc)


def _raised_by_pymysql(exc: BaseException) -> bool:
    """Only pymysql reads the packets: the same plain errors raised by opsh's own code on the
    worker thread are bugs, and must be reported as such, not blamed on the server."""
    frame, tb = None, exc.__traceback__
    while tb is not None:
        frame, tb = tb.tb_frame, tb.tb_next
    module = str(frame.f_globals.get("__name__", "")) if frame is not None else ""
    return module.split(".")[0] == "pymysql"


def _sqlite(exc: BaseException) -> Described:
    name = getattr(exc, "sqlite_errorname", None)
    if name:
        return Described.failure(f"sqlite {name}: {_one_line(str(exc))}")
    return in_own_words("sqlite", exc)


def malformed_packet(where: str, exc: BaseException) -> ConnectionLost:
    """One line for a packet that does not parse; the caller has closed the connection."""
    return ConnectionLost(
        f"malformed packet from mysql at {where}: {_what_broke(exc)}",
        "the connection was reset; the next statement reconnects",
    )


def _what_broke(exc: BaseException) -> str:
    if type(exc).__module__ == "_mysql_connector":
        return "a packet that does not read as the protocol says"
    if isinstance(exc, AssertionError):
        return "a value runs past the end of its packet"
    if isinstance(exc, (struct.error, IndexError)):
        return "a packet ends before its fields do"
    if isinstance(exc, UnicodeDecodeError):
        return f"text that is not valid {exc.encoding}"
    if isinstance(exc, KeyError):
        return f"an unknown character set or type number ({exc})"
    return "a value that does not read as its column's type"


def _one_line(text: str) -> str:
    return " ".join(text.split())


ERRORS: ErrorTable = {"pymysql": _mysql, "_mysql_connector": _connector, "sqlite3": _sqlite}
