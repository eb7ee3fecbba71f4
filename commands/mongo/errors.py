"""How pymongo's (and bson's) exceptions read: `mongodb 11000: E11000 duplicate key ...`, the
server's code and message, not pymongo's dump of the whole reply.

Found by the core's describe() (shell/errors.py) by the module that defines the exception's
class; nothing here imports the driver.
"""

from __future__ import annotations

from opsh.shell.errors import Described, ErrorTable, in_own_words

UNAUTHORIZED = 13


def _pymongo(exc: BaseException) -> Described:
    details = getattr(exc, "details", None) or {}
    write_errors = details.get("writeErrors") if isinstance(details, dict) else None
    if write_errors:
        first = write_errors[0]
        more = f" (and {len(write_errors) - 1} more)" if len(write_errors) > 1 else ""
        return Described.failure(f"mongodb {first.get('code')}: {first.get('errmsg')}{more}")
    code = getattr(exc, "code", None)
    message = details.get("errmsg") if isinstance(details, dict) else None
    message = message or str(exc).split(", full error:")[0]
    hint = None
    if code == UNAUTHORIZED:
        hint = "the server wants a user: connect mongodb://USER@HOST:PORT/DB"
    prefix = f"mongodb {code}" if code is not None else "mongodb"
    return Described.failure(f"{prefix}: {message}", hint)


def _bson(exc: BaseException) -> Described:
    return in_own_words("mongodb", exc)


ERRORS: ErrorTable = {"pymongo": _pymongo, "bson": _bson}
