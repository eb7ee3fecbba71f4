"""MongoDB in mongosh's syntax: `connect mongodb://host:27017/db`, then method chains on `db`.

The pieces: syntax.py splits statements and parses `db.coll.find(...).sort(...)` (arguments
with the core's relaxed-JSON reader, opsh.shell.syntax.rjson: never evaluated), methods.py
maps each method to pymongo, guard.py refuses writes on read-only handles and asks before
drops, handle.py is the mode (paging with `it`, show/use), render.py decides how BSON values
look, complete.py completes collections, methods and operators and colours the line, help.py
is the mode's `help`.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from opsh.commands.mongo.errors import ERRORS as ERRORS
from opsh.commands.shared.many.command import fan_out_line, forced, is_fan_out
from opsh.commands.shared.many.options import many_options
from opsh.commands.shared.many.targets import Backend, completions
from opsh.shell.errors import UsageError
from opsh.shell.lineparse import quote_word
from opsh.shell.pick import pick_handle
from opsh.shell.spec import Args, Command, Kind, Param, Setting, arg

if TYPE_CHECKING:
    from opsh.shell.handles import ConnectRequest, Handle
    from opsh.shell.result import Result
    from opsh.shell.session import Session


def connect(session: Session, request: ConnectRequest) -> Handle:
    from opsh.commands.mongo.handle import connect_mongo

    return connect_mongo(session, request)


CONNECTORS = {"mongodb": connect, "mongodb+srv": connect}
SETTINGS = (Setting("mongo_batch", Kind.INT, 20, "documents per page of a mongo find at the terminal (`it` for more)"),)


class MongoCommand(Command):
    name = "mongo"
    area = "mongo"
    statement_rest = True
    summary = "one mongosh-style statement on a Mongo handle, or on many at once, without switching to it"
    params = (
        arg("statement", Kind.REST, help="db.COLL.method(...) chain, show dbs|collections (quote it)"),
        *many_options("Mongo"),
    )
    examples = (
        "connect mongodb://127.0.0.1:27017/app as app",
        'mongo --on app "db.users.countDocuments({})"',
        'mongo --on replica[1-3] "db.users.countDocuments({active: true})"   # one table: target, value',
        'mongo --on @replicas --group "db.users.find({}, {_id: 0}).sort({name: 1})"',
        'mongo --on @replicas "db.sessions.drop()"   # asks once, naming every target',
    )

    def run(self, session: Session, args: Args) -> Result:
        statement = " ".join(args.statement).strip().rstrip(";").strip()
        if not statement:
            raise UsageError("mongo: no statement given", 'e.g. mongo --on app "db.users.countDocuments({})"')
        if is_fan_out(session, args.on, args.exclude):
            return fan_out_line(session, _backend(), args, statement)
        return forced(_run_one(session, _mongo_handle(session, args.on), statement), args.format)

    def complete(self, session: Session, args: Args, param: Param, prefix: str) -> Iterable[str] | None:
        if param.name in ("on", "exclude"):
            return completions(session, _backend(), prefix)
        return None

    @classmethod
    def sends(cls, handle: Handle, line: str) -> str | None:
        """`db.users.find()` or `show collections` typed in the local mode while a Mongo handle is open."""
        words = line.split()
        if not _is_mongo(handle) or not (line.startswith("db.") or words[:1] == ["show"]):
            return None
        return f"mongo --on {handle.name} {quote_word(line.strip().rstrip(';').rstrip())}"


def _mongo_handle(session: Session, name: str | None) -> Handle:
    """The handle named `name`, else the current one, else the only open Mongo handle."""
    return pick_handle(session, name, "Mongo", _is_mongo, ("mongodb://host:27017/db",))


def _is_mongo(handle: Handle) -> bool:
    return handle.kind == "mongo"


def _backend() -> Backend:
    """The Mongo hook of the fan-out: mongo handles, mongodb:// connections, and a statement
    run as the mode runs it (read-only refusals and drop confirmations included)."""
    return Backend("mongo", frozenset(CONNECTORS), _is_mongo, _run_one)


def _run_one(session: Session, handle: Handle, statement: str) -> Result:
    return handle.run(session, statement)


COMMANDS = (MongoCommand,)
