"""MongoDB in mongosh's syntax: `connect mongodb://host:27017/db`, then method chains on `db`.

The pieces: syntax.py splits statements and parses `db.coll.find(...).sort(...)` (arguments
with the core's relaxed-JSON reader, opsh.shell.syntax.rjson: never evaluated), methods.py
maps each method to pymongo, guard.py refuses writes on read-only handles and asks before
drops, handle.py is the mode (paging with `it`, show/use), render.py decides how BSON values
look, complete.py completes collections, methods and operators and colours the line, help.py
is the mode's `help`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from opsh.shell.spec import Kind, Setting

if TYPE_CHECKING:
    from opsh.shell.handles import ConnectRequest, Handle
    from opsh.shell.session import Session


def connect(session: Session, request: ConnectRequest) -> Handle:
    from opsh.commands.mongo.handle import connect_mongo

    return connect_mongo(session, request)


CONNECTORS = {"mongodb": connect, "mongodb+srv": connect}
SETTINGS = (Setting("mongo_batch", Kind.INT, 20, "documents per page of a mongo find at the terminal (`it` for more)"),)
COMMANDS = ()
