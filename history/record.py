"""`record start FILE`: write what ran as a script a person can read, edit and replay.

The recorder observes every statement the engine runs. Mode switches are statements too
(`connect`, `use`, `\\q`), so the recording replays through the same modes. Secrets never
reach the file: a URL password is dropped (replay prompts for it or takes it from the
config), and a statement with any other secret is kept only as a comment.
"""

from __future__ import annotations

import datetime as dt
import socket
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING

from opsh.history import transcript
from opsh.shell.errors import OpshError

if TYPE_CHECKING:
    from opsh.shell.dispatch import StatementRecord
    from opsh.shell.session import Session

# Statements about recording itself are not part of the recording.
_SKIPPED = ("record", "\\record", "history", "\\history")


@dataclass
class Recorder:
    path: Path
    script: IO[str]
    transcript_path: Path | None = None
    transcript_file: IO[str] | None = None
    statements: int = 0
    skipped_secrets: int = field(default=0)

    def __call__(self, record: StatementRecord) -> None:
        first = record.source.split(None, 1)[0] if record.source.strip() else ""
        if first in _SKIPPED:
            return
        source = record.source.rstrip()
        if record.shell_command and record.mode == "local" and source.endswith(";"):
            source = source[:-1].rstrip()
        self.script.write(_script_line(record, source))
        self.script.flush()
        self.statements += 1
        if self.transcript_file is not None:
            entry = transcript.Entry(source, record.output or "", record.exit_code, record.error or "")
            self.transcript_file.write(transcript.format_entry(entry))
            self.transcript_file.flush()

    def close(self) -> None:
        self.script.close()
        if self.transcript_file is not None:
            self.transcript_file.close()


def _script_line(record: StatementRecord, source: str) -> str:
    if record.had_secret:
        return "# secret removed, line not replayable as written: " + _one_line(source) + "\n"
    if not record.ok:
        return "# failed: " + _one_line(source) + "\n"
    return source + "\n"


def _one_line(text: str) -> str:
    return " ".join(text.split())


def start(session: Session, path: Path, with_transcript: bool) -> Recorder:
    if session.areas.get("recorder") is not None:
        raise OpshError("already recording", "record stop first")
    script = open(path, "w", encoding="utf-8")  # noqa: SIM115 - closed by stop()
    stamp = dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    script.write(f"# opsh recording, {stamp} on {socket.gethostname()}\n")
    for line in _reopen_lines(session):
        script.write(line + "\n")
    recorder = Recorder(path, script)
    if with_transcript:
        recorder.transcript_path = transcript_path_for(path)
        recorder.transcript_file = open(recorder.transcript_path, "w", encoding="utf-8")  # noqa: SIM115
        recorder.transcript_file.write(transcript.HEADER + "\n")
        session.engine.capture_for(recorder)
    session.areas["recorder"] = recorder
    session.observers.append(recorder)
    return recorder


def stop(session: Session) -> Recorder:
    recorder: Recorder | None = session.areas.pop("recorder", None)
    if recorder is None:
        raise OpshError("not recording", "record start FILE")
    session.observers.remove(recorder)
    session.engine.release_capture(recorder)
    recorder.close()
    return recorder


def transcript_path_for(script: Path) -> Path:
    return script.with_suffix(".transcript")


def _reopen_lines(session: Session) -> list[str]:
    """Handles already open when recording starts, so the script can stand on its own."""
    lines = []
    for handle in session.handles.values():
        if handle.url:
            lines.append(f"connect {handle.url} as {handle.name} --background")
    if session.current:
        lines.append(f"use {session.current}")
    return lines
