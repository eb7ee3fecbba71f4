"""MongoDB in mongosh's syntax: `connect mongodb://host:27017/db`, then method chains on `db`.

The pieces: syntax.py splits statements and parses `db.coll.find(...).sort(...)` (arguments
with the core's relaxed-JSON reader, opsh.shell.syntax.rjson: never evaluated), methods.py
maps each method to pymongo, guard.py refuses writes on read-only handles and asks before
drops, handle.py is the mode (paging with `it`, show/use), render.py decides how BSON values
look, complete.py completes collections, methods and operators and colours the line, help.py
is the mode's `help`.
"""

from __future__ import annotations

import warnings
from typing import TYPE_CHECKING, Any

from opsh.shell.errors import AuthError, ConnectError, UsageError
from opsh.shell.spec import Kind, Setting

if TYPE_CHECKING:
    from opsh.commands.mongo.handle import MongoHandle
    from opsh.shell.handles import ConnectRequest
    from opsh.shell.session import Session

DEFAULT_PORT = 27017
URL_EXAMPLE = "e.g. mongodb://user@host:27017/db?authSource=admin"


def connect(session: Session, request: ConnectRequest) -> MongoHandle:
    """Open a client and check it with a ping (which also authenticates when a user is given)."""
    import pymongo
    from pymongo import errors

    from opsh.commands.mongo.handle import MongoHandle

    database = request.path.split("/", 1)[0] or "test"
    timeout_ms = int(session.timeout * 1000)
    options: dict[str, Any] = {
        "serverSelectionTimeoutMS": timeout_ms,
        "connectTimeoutMS": timeout_ms,
        "uuidRepresentation": "standard",
        "appname": "opsh",
    }
    if request.user:
        options["password"] = request.get_password()
    _check_options(request.options)
    port = request.port(DEFAULT_PORT)
    endpoint = f"{request.host}:{port}/{database}"
    try:
        with warnings.catch_warnings(record=True) as warned:
            warnings.simplefilter("always")
            client = pymongo.MongoClient(request.url, **options)
    except (errors.ConfigurationError, errors.InvalidURI, ValueError, TypeError) as exc:
        raise UsageError(f"bad mongodb URL: {exc}", URL_EXAMPLE) from None
    # pymongo only warns about a URL it does not like; a mistake should not pass silently.
    complaints = [w for w in warned if issubclass(w.category, UserWarning) and "pymongo" in w.filename]
    if complaints:
        client.close()
        raise UsageError(f"bad mongodb URL: {str(complaints[0].message).split('. Refer')[0]}", URL_EXAMPLE)
    try:
        client.admin.command("ping")
    except errors.ServerSelectionTimeoutError as exc:
        client.close()
        raise ConnectError(f"cannot reach mongodb at {request.host}:{port}", _reason(exc)) from None
    except errors.OperationFailure as exc:
        client.close()
        if exc.code == 18:
            raise AuthError(f"authentication failed for {request.user} on {endpoint}") from None
        raise
    return MongoHandle(request.name, endpoint, client, database, readonly=request.readonly, tag=request.tag)


def _check_options(given: dict[str, str]) -> None:
    """An option pymongo does not know is a typo to report, not a warning to print."""
    import difflib

    from pymongo import common

    known = {*common.URI_OPTIONS_VALIDATOR_MAP, *common.URI_OPTIONS_ALIAS_MAP}
    for name in given:
        if name.lower() not in known:
            close = difflib.get_close_matches(name.lower(), sorted(known), n=1)
            hint = f"did you mean {close[0]}?" if close else URL_EXAMPLE
            raise UsageError(f"bad mongodb URL: unknown option {name!r}", hint)


def _reason(exc: Exception) -> str:
    """The first server's error from pymongo's long topology description."""
    text = str(exc).split(", Timeout:")[0]
    text = text.split(" (configured timeouts")[0]
    return text.split(": ", 1)[-1] if ": " in text else text


CONNECTORS = {"mongodb": connect}
SETTINGS = (Setting("mongo_batch", Kind.INT, 20, "documents per page of a mongo find at the terminal (`it` for more)"),)
COMMANDS = ()
