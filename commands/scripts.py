"""History, recording and replay: the session-script side of opsh."""

from __future__ import annotations

import datetime as dt
import re
from typing import TYPE_CHECKING

from opsh.shell.errors import OpshError, UsageError
from opsh.shell.result import Result
from opsh.shell.session import Session
from opsh.shell.spec import Args, Command, Kind, arg, opt

if TYPE_CHECKING:
    from collections.abc import Sequence

    from opsh.shell.session import HistoryEntry

_RANGE = re.compile(r"^(\d+)(?:-(\d+))?$")


class HistorySave(Command):
    name = "save"
    summary = "write a range of history entries to a script file"
    params = (
        arg("range", Kind.TEXT, metavar="FROM-TO", help="entry numbers as shown by `history`, e.g. 12-30 or 12"),
        arg("file", Kind.PATH, help="the .opsh script to write"),
        opt("--all", help="keep failed lines too (as comments otherwise)"),
    )
    examples = ("history save 40-52 deploy.opsh",)

    def run(self, session: Session, args: Args) -> Result:
        entries = _entries(session)
        first, last = _parse_range(args.range, len(entries))
        path = session.path(args.file)
        picked = entries[first - 1 : last]
        lines = [f"# saved from opsh history entries {first}-{last}"]
        for entry in picked:
            if entry.line.split(None, 1)[0] in ("history", "record", "replay"):
                continue
            lines.append(entry.line if entry.exit == 0 or args.all else f"# failed: {' '.join(entry.line.split())}")
        from opsh.shell.config import write_private

        try:
            write_private(path, "\n".join(lines) + "\n")  # 0600, as recordings are
        except OSError as exc:
            raise OpshError(f"cannot write {args.file}: {exc.strerror or exc}") from None
        return Result.empty(status=f"wrote {len(lines) - 1} lines to {args.file}")


class History(Command):
    name = "history"
    area = "scripts"
    summary = "lines typed in this and earlier sessions (secrets are stored redacted)"
    params = (
        arg("count", Kind.INT, required=False, default=25, help="how many of the latest entries"),
        opt("--grep", kind=Kind.TEXT, help="only lines matching this regular expression"),
    )
    subcommands = (HistorySave,)
    usage = "history [N] [--grep PATTERN] | history save FROM-TO FILE"
    examples = ("history", "history 100", "history --grep connect", "history save 12-30 deploy.opsh")

    def run(self, session: Session, args: Args) -> Result:
        if args.count < 1:
            raise UsageError("count must be at least 1")
        entries = list(enumerate(_entries(session), 1))
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


def _entries(session: Session) -> Sequence[HistoryEntry]:
    if session.history is None:
        raise OpshError("history is off in this session (--no-history)")
    return session.history.entries()


def _parse_range(text: str, size: int) -> tuple[int, int]:
    match = _RANGE.match(text)
    if not match:
        raise UsageError(f"bad range {text!r}", "write FROM-TO, e.g. 12-30, as numbered by `history`")
    first = int(match.group(1))
    last = int(match.group(2) or first)
    if not 1 <= first <= last <= size:
        raise UsageError(f"range {text} is outside the history (1-{size})")
    return first, last


class RecordStart(Command):
    name = "start"
    summary = "record the lines that run from now on into a script"
    params = (
        arg("file", Kind.PATH, help="the .opsh script to write"),
        opt("--transcript", help="also store each line's output in FILE's .transcript, for replay --check"),
    )
    examples = ("record start session.opsh", "record start drift.opsh --transcript")

    def run(self, session: Session, args: Args) -> Result:
        from opsh.history import record

        recorder = record.start(session, session.path(args.file), args.transcript)
        extra = f" (transcript: {recorder.transcript_path.name})" if recorder.transcript_path else ""
        return Result.empty(status=f"recording to {args.file}{extra}")


class RecordStop(Command):
    name = "stop"
    summary = "stop recording"

    def run(self, session: Session, args: Args) -> Result:
        from opsh.history import record

        recorder = record.stop(session)
        return Result.empty(status=f"recorded {recorder.statements} statements to {recorder.path}")


class Record(Command):
    name = "record"
    area = "scripts"
    summary = "record what runs as a replayable script (and optionally a transcript of its output)"
    subcommands = (RecordStart, RecordStop)
    examples = ("record start session.opsh", "record start drift.opsh --transcript", "record stop", "record")

    def run(self, session: Session, args: Args) -> Result:
        recorder = session.areas.get("recorder")
        if recorder is None:
            return Result.of_text("not recording")
        return Result.of_text(f"recording to {recorder.path}: {recorder.statements} statements so far")


class ReplayCommand(Command):
    name = "replay"
    area = "scripts"
    summary = "run a script (.opsh) as if typed: stops at the first failing line unless --keep-going"
    params = (
        arg("file", Kind.PATH, help="the script"),
        opt("--var", kind=Kind.TEXT, multiple=True, metavar="NAME=VALUE", help="set a variable first"),
        opt("--dry-run", help="print each line with variables expanded, run nothing"),
        opt("--keep-going", help="go on after a failing line"),
        opt("--step", help="ask before each line"),
        opt("--check", kind=Kind.PATH, metavar="TRANSCRIPT", help="compare each line's output with a transcript"),
    )
    examples = (
        "replay deploy.opsh",
        "replay deploy.opsh --var env=staging --dry-run",
        "replay nightly.opsh --keep-going --yes",
        "replay drift.opsh --check drift.transcript",
    )

    def run(self, session: Session, args: Args) -> Result:
        for pair in args.var:
            name, eq, value = pair.partition("=")
            if not eq:
                raise UsageError(f"--var {pair!r}: expected NAME=VALUE")
            session.set_variable(name, value)
        from opsh.history.script import Options, ScriptReplay, replay_result

        check = session.path(args.check) if args.check else None
        options = Options(args.keep_going, args.dry_run, args.step, check)
        if args.step and not session.io.interactive:
            raise UsageError("--step needs a terminal to ask on")
        report = ScriptReplay(session.engine, options).run(session.path(args.file))
        return replay_result(report, options, args.file)


COMMANDS = (History, Record, ReplayCommand)
