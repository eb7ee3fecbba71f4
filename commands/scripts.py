"""History of what was typed (persistent, secrets redacted)."""

from __future__ import annotations

import datetime as dt
import re

from shell.errors import OpshError, UsageError
from shell.result import Result
from shell.session import Session
from shell.spec import Args, Kind, arg, command, opt


@command(
    "history",
    area="scripts",
    summary="lines typed in earlier and current sessions (secrets are stored redacted)",
    params=(
        arg("count", Kind.INT, required=False, default=25, help="how many of the latest entries"),
        opt("--grep", kind=Kind.TEXT, help="only lines matching this regular expression"),
    ),
    examples=("history", "history 100", "history --grep connect", "history --format json"),
)
def history_cmd(session: Session, args: Args) -> Result:
    if session.history is None:
        raise OpshError("history is off in this session")
    if args.count < 1:
        raise UsageError("count must be at least 1")
    entries = list(enumerate(session.history.entries(), 1))
    if args.grep:
        try:
            pattern = re.compile(args.grep)
        except re.error as exc:
            raise UsageError(f"bad --grep pattern: {exc}") from None
        entries = [(n, e) for n, e in entries if pattern.search(e.line)]
    rows = [
        [n, dt.datetime.fromtimestamp(e.time).strftime("%Y-%m-%d %H:%M:%S"), e.mode, e.exit, e.line]
        for n, e in entries[-args.count :]
    ]
    return Result.table(["#", "time", "mode", "exit", "line"], rows)


COMMANDS = (history_cmd,)
