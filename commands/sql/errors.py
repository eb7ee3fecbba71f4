"""How the SQL drivers' exceptions read (pymysql's and sqlite3's): the server's error code and
its message on one line, `mysql 1146: Table 'shop.nope' doesn't exist`.

Found by the core's describe() (shell/errors.py) by the module that defines the exception's
class; nothing here imports a driver.
"""

from __future__ import annotations

from opsh.shell.errors import Described, ErrorTable, in_own_words


def _mysql(exc: BaseException) -> Described:
    if len(exc.args) >= 2 and isinstance(exc.args[0], int):
        # Server messages quote the statement, newlines included: keep the error on one line.
        return Described.failure(f"mysql {exc.args[0]}: {_one_line(str(exc.args[1]))}")
    return in_own_words("mysql", exc)


def _sqlite(exc: BaseException) -> Described:
    name = getattr(exc, "sqlite_errorname", None)
    if name:
        return Described.failure(f"sqlite {name}: {_one_line(str(exc))}")
    return in_own_words("sqlite", exc)


def _one_line(text: str) -> str:
    return " ".join(text.split())


ERRORS: ErrorTable = {"pymysql": _mysql, "sqlite3": _sqlite}
