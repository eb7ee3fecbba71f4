"""`record start FILE`: write what ran as a script a person can read, edit and replay.

The recorder observes every statement the engine runs. Mode switches are statements too
(`connect`, `use`, `\\q`), so the recording replays through the same modes. Secrets never
reach the file: a URL password is dropped (replay prompts for it or takes it from the
config), and a statement with any other secret is kept only as a comment.

A `replay` typed while recording is recorded as that one line, never as the statements it
ran (they are one level deeper); its transcript entry holds everything they printed, whole.

Writing is best-effort: when the disk is full (or the file cannot be written any more) the
recording stops with one warning and the shell goes on.
"""

from __future__ import annotations

import datetime as dt
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING

from opsh.history import transcript
from opsh.shell.config import open_private
from opsh.shell.errors import OpshError, UsageError, swallowed

if TYPE_CHECKING:
    from opsh.shell.dispatch import StatementRecord
    from opsh.shell.session import Session

# Statements about recording itself are not part of the recording.
_SKIPPED = ("record", "\\record", "history", "\\history")


@dataclass
class Recorder:
    path: Path
    script: IO[str]
    depth: int  # the level of the statements recorded (deeper ones ran inside a `replay`)
    warn: Callable[[str], None]
    detach: Callable[[], None]  # stops this recording (after a write failed)
    transcript_path: Path | None = None
    transcript_file: IO[str] | None = None
    statements: int = 0
    skipped_secrets: int = field(default=0)

    def __call__(self, record: StatementRecord) -> None:
        if not self._at_our_level(record):
            return
        first = record.source.split(None, 1)[0] if record.source.strip() else ""
        if first in _SKIPPED:
            return
        entry = transcript.entry_for(record)
        try:
            self.script.write(_script_line(entry))
            self.script.flush()
            if self.transcript_file is not None:
                self.transcript_file.write(transcript.format_entry(entry))
                self.transcript_file.flush()
        except OSError as exc:
            self.warn(f"recording to {self.path.name} stopped: {exc.strerror or exc} (what came before is kept)")
            self.detach()
            return
        self.statements += 1

    def _at_our_level(self, record: StatementRecord) -> bool:
        """Statements a `replay` ran are deeper: not ours. A shallower one is the statement that
        ran the script which started this recording: not ours either, but what follows it is."""
        if record.depth > self.depth:
            return False
        if record.depth < self.depth:
            self.depth = record.depth
            return False
        return True

    def close(self) -> None:
        for stream in (self.script, self.transcript_file):
            if stream is None:
                continue
            try:
                stream.close()
            except OSError:
                swallowed("closing a recording on a full disk")


def _script_line(entry: transcript.Entry) -> str:
    """The statement, or a comment where replaying it as written would not work (the
    transcript marks the same statements, so both stay aligned)."""
    if entry.in_script:
        return entry.source + "\n"
    if entry.exit_code:
        return "# failed: " + _one_line(entry.source) + "\n"
    return "# secret removed, line not replayable as written: " + _one_line(entry.source) + "\n"


def _one_line(text: str) -> str:
    return " ".join(text.split())


def start(session: Session, path: Path, with_transcript: bool) -> Recorder:
    if session.areas.get("recorder") is not None:
        raise OpshError("already recording", "record stop first")
    if with_transcript and transcript_path_for(path) == path:
        raise UsageError(
            f"{path.name} would be both the script and its transcript",
            "name the script FILE.opsh: its transcript is FILE.transcript",
        )
    stamp = dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    reopen = _reopen_lines(session)
    head = [f"# opsh recording, {stamp} on {socket.gethostname()}", *reopen]
    engine = session.engine
    script = _open_with(path, head)
    recorder = Recorder(path, script, engine.depth, lambda text: engine.warn(text), lambda: _detach(session, recorder))
    if with_transcript:
        recorder.transcript_path = transcript_path_for(path)
        try:
            recorder.transcript_file = _open_with(recorder.transcript_path, _transcript_head(reopen))
        except OpshError:
            recorder.close()
            raise
        engine.capture_for(recorder)
    session.areas["recorder"] = recorder
    session.observers.append(recorder)
    return recorder


def _open_with(path: Path, lines: list[str]) -> IO[str]:
    """A new private file holding `lines` already, or one clear error (and no file handle left)."""
    try:
        stream = open_private(path)
    except OSError as exc:
        raise OpshError(f"cannot write {path}: {exc.strerror or exc}") from None
    try:
        stream.write("".join(line + "\n" for line in lines))
        stream.flush()
    except OSError as exc:
        try:
            stream.close()
        except OSError:
            swallowed("closing a file that could not be written")
        raise OpshError(f"cannot write {path}: {exc.strerror or exc}") from None
    return stream


def stop(session: Session) -> Recorder:
    recorder: Recorder | None = session.areas.get("recorder")
    if recorder is None:
        raise OpshError("not recording", "record start FILE")
    _detach(session, recorder)
    return recorder


def _detach(session: Session, recorder: Recorder) -> None:
    if session.areas.get("recorder") is recorder:
        del session.areas["recorder"]
    if recorder in session.observers:
        session.observers.remove(recorder)
    session.engine.release_capture(recorder)
    recorder.close()


def transcript_path_for(script: Path) -> Path:
    """`s1.opsh` -> `s1.transcript` (next to the script)."""
    return script.with_suffix(".transcript")


def _transcript_head(reopen: list[str]) -> list[str]:
    """The script's reopen lines are statements `--check` will see run, so the transcript holds
    them too (they print nothing), or a check could never pass."""
    entries = [transcript.format_entry(transcript.Entry(line, "")).rstrip("\n") for line in reopen]
    return [transcript.HEADER, *entries]


def _reopen_lines(session: Session) -> list[str]:
    """Handles already open when recording starts, so the script can stand on its own: it
    replays in a fresh opsh, where nothing is open yet."""
    lines = []
    for handle in session.handles.values():
        if handle.url:
            lines.append(f"connect {handle.url} as {handle.name} --background")
    if session.current:
        lines.append(f"use {session.current}")
    return lines

