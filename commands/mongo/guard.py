"""What a mongo handle refuses or asks first: writes on a read-only handle, and the calls
that empty or drop a whole collection or database (scripts need --yes for them)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from opsh.shell.errors import ReadOnly

if TYPE_CHECKING:
    from opsh.shell.session import Session

# Commands a read-only handle may still run through runCommand/adminCommand.
READ_COMMANDS = frozenset(
    {
        "ping",
        "buildinfo",
        "buildInfo",
        "serverStatus",
        "hostInfo",
        "dbStats",
        "collStats",
        "listCollections",
        "listDatabases",
        "listIndexes",
        "count",
        "distinct",
        "find",
        "connectionStatus",
        "getCmdLineOpts",
        "isMaster",
        "hello",
        "currentOp",
        "getParameter",
        "whatsmyuri",
    }
)


def refuse_write(readonly: bool, what: str) -> None:
    if readonly:
        raise ReadOnly(f"{what} refused: this handle is read-only")


def refuse_command(readonly: bool, command: str) -> None:
    """runCommand can do anything: on a read-only handle only known reads go through."""
    if readonly and command not in READ_COMMANDS:
        raise ReadOnly(f"{command} refused: this handle is read-only")


def confirm_every_document(session: Session, collection: Any, namespace: str, verb: str) -> None:
    """deleteMany({}) / updateMany({}, ...): the count says how much is at stake."""
    count = collection.estimated_document_count()
    session.confirm(f"{verb} all {count} documents of {namespace}?")


def confirm_drop(session: Session, what: str) -> None:
    session.confirm(f"Drop {what}?")
