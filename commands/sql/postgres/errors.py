"""How psycopg's exceptions read: the server's SQLSTATE and its message on one line, with the
server's hint and detail as the hint (`postgres 42P01: relation "nope" does not exist`); a
failure to connect as libpq words it, its lines joined.

Found by the core's describe() (shell/errors.py) by the module that defines the exception's
class; nothing here imports psycopg.
"""

from __future__ import annotations

from opsh.shell.errors import Described, ErrorTable, in_own_words


def _postgres(exc: BaseException) -> Described:
    code = getattr(exc, "sqlstate", None)
    diag = getattr(exc, "diag", None)
    primary = getattr(diag, "message_primary", None) if code else None
    if code and primary:
        extra = [getattr(diag, name, None) for name in ("message_detail", "message_hint")]
        hint = "; ".join(_one_line(part) for part in extra if part) or None
        return Described.failure(f"postgres {code}: {_one_line(primary)}", hint)
    text = _one_line(str(exc))
    if text:
        return Described.failure(f"postgres: {text}")
    return in_own_words("postgres", exc)


def _one_line(text: str) -> str:
    return " ".join(text.split())


ERRORS: ErrorTable = {"psycopg": _postgres}
