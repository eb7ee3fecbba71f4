"""Script files (.opsh) and replaying them through the session's engine.

A script is what a person would type, one line per command: `#` comments, `\\` at the end of
a line continues it, `${NAME}` / `${NAME:-default}` expand (`--var NAME=VALUE` presets them),
SQL statements may span lines inside a SQL mode, and `include OTHER.opsh` runs another script
in place. `# mask: REGEX` marks volatile output (times, ids) that `--check` should ignore.

Each line goes through `Engine.feed()`, exactly as if typed, so modes, redirections and
confirmations behave the same in a script as at the prompt.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from opsh.history import transcript
from opsh.shell.dispatch import Engine, StatementRecord
from opsh.shell.errors import NotFound, OpshError, UsageError, swallowed
from opsh.shell.fileread import read_text
from opsh.shell.lineparse import continues, expand_text, tokenize
from opsh.shell.result import Result

MAX_INCLUDE_DEPTH = 16
_MASK = re.compile(r"^\s*#\s*mask:\s*(.+?)\s*$")
_SKIPPED = ("record", "\\record", "history", "\\history")


@dataclass(frozen=True)
class Line:
    """A logical line (continuations joined) and where it starts."""

    path: Path
    number: int
    text: str

    @property
    def where(self) -> str:
        return f"{self.path.name}:{self.number}"


@dataclass
class Options:
    keep_going: bool = False
    dry_run: bool = False
    step: bool = False
    check: Path | None = None


@dataclass
class Report:
    """What a replay did: counts, the first failure, and (with --check) the diffs."""

    statements: int = 0
    failed: int = 0
    stopped_at: str | None = None
    dry_lines: list[str] = field(default_factory=list)
    diffs: list[str] = field(default_factory=list)
    changed: int = 0

    @property
    def ok(self) -> bool:
        return self.failed == 0 and self.changed == 0


def read_lines(path: Path) -> Iterator[Line]:
    """Logical lines of a script: a trailing backslash joins the next physical line."""
    text = read_text(path, str(path), "script")  # a regular file, read with a bound (not /dev/zero)
    buffer: list[str] = []
    start = 0
    for number, raw in enumerate(text.splitlines(), 1):
        if not buffer:
            start = number
        if continues(raw):
            buffer.append(raw[:-1])
            continue
        buffer.append(raw)
        yield Line(path, start, "".join(buffer))
        buffer = []
    if buffer:
        yield Line(path, start, "".join(buffer))


class ScriptReplay:
    """Runs one script (and what it includes) in a session, per the options."""

    def __init__(self, engine: Engine, options: Options) -> None:
        self.engine = engine
        self.session = engine.session
        self.options = options
        self.report = Report()
        self.masks: list[re.Pattern[str]] = []
        self.seen: list[transcript.Entry] = []
        self.expected: list[transcript.Entry] = []
        self.depth = 0
        self.level = engine.depth + 1  # the depth of the statements this replay feeds

    def run(self, path: Path) -> Report:
        self._check_inputs(path)
        engine = self.engine
        saved = (engine.pending, engine.location, engine.out, engine.err, engine.batch, engine.keep_going, engine.stopped)
        previous_mode = self.session.current
        opened_before = set(self.session.handles)
        self.session.current = None  # scripts start in the local mode
        engine.pending, engine.stopped = "", None
        # A replay is a batch run: it stops at the first failed line (--check compares every
        # statement, so it goes on), rolling back a transaction left open.
        engine.batch, engine.keep_going = True, self.options.keep_going or self.options.check is not None
        if self.options.check:
            engine.capture_for(self)
            engine.out, engine.err = io.StringIO(), io.StringIO()
            self.session.observers.append(self._observe)
        try:
            self._run_file(path)
            if not self.report.stopped_at and not self.options.dry_run:
                self._finish()
        finally:
            if self.options.check:
                self.session.observers.remove(self._observe)
            engine.release_capture(self)
            (engine.pending, engine.location, engine.out, engine.err, engine.batch, engine.keep_going, engine.stopped) = saved
            self._close_opened(opened_before)
            if self.session.current is None and previous_mode in self.session.handles:
                self.session.current = previous_mode
        if self.options.check:
            self._compare()
        return self.report

    def _check_inputs(self, path: Path) -> None:
        """Every input is read before anything runs: the script, what it includes (as far as
        the names are known before it runs), and the transcript, so that a missing or broken
        one is an error while nothing has been done yet."""
        self._check_script(path, 1)
        if self.options.check:
            self.expected = transcript.read(self.options.check)

    def _check_script(self, path: Path, depth: int) -> None:
        if depth > MAX_INCLUDE_DEPTH:
            raise OpshError(f"include nested deeper than {MAX_INCLUDE_DEPTH}", "is a script including itself?")
        for line in list(read_lines(path)):
            target = self._known_include(line)
            if target is None:
                continue
            if not target.exists():
                raise NotFound(f"{line.where}: no such script to include: {target}")
            self._check_script(target, depth + 1)

    def _known_include(self, line: Line) -> Path | None:
        """The file an `include` line names, when it can be told before the script runs (a
        name built from variables the script sets itself is checked when it is reached)."""
        text = line.text.strip()
        if not text.startswith("include "):
            return None
        try:
            words = [t.text for t in tokenize(text, self.session.lookup)]
        except OpshError:
            return None
        if len(words) != 2:
            return None
        target = Path(words[1]).expanduser()
        return target if target.is_absolute() else line.path.parent / target

    def _close_opened(self, opened_before: set[str]) -> None:
        """A replay leaves the session's handles as it found them: those it opened close."""
        for name in [n for n in self.session.handles if n not in opened_before]:
            try:
                self.session.close_handle(name)
            except Exception:  # noqa: BLE001 - closing must never hide how the replay went
                swallowed(f"closing handle {name} at the end of a replay")

    # ------------------------------------------------------------ lines

    def _run_file(self, path: Path) -> None:
        self.depth += 1
        if self.depth > MAX_INCLUDE_DEPTH:
            raise OpshError(f"include nested deeper than {MAX_INCLUDE_DEPTH}", "is a script including itself?")
        try:
            start: Line | None = None
            for line in read_lines(path):
                if self.report.stopped_at or self.session.exit_code is not None:
                    return
                if not self.engine.pending:
                    start = line
                if not self._line(line, start or line):
                    return
        finally:
            self.depth -= 1

    def _line(self, line: Line, start: Line) -> bool:
        stripped = line.text.strip()
        if not self.engine.pending:
            if not stripped:
                return True
            if stripped.startswith("#"):
                self._directive(stripped, line)
                return True
            include = self._include_target(stripped, line)
            if include is not None:
                self._run_file(include)
                return not self.report.stopped_at
        if self.options.dry_run:
            return self._dry(line)
        if self.options.step and not self.engine.pending and not self._ask(line):
            return not self.report.stopped_at
        return self._feed(line, start)

    def _feed(self, line: Line, start: Line) -> bool:
        self.engine.location = start.where
        failures = self.engine.failures
        try:
            self.engine.feed(line.text + "\n")
        finally:
            self.engine.location = None
        self.report.failed += self.engine.failures - failures
        if self.engine.stopped:
            self.report.stopped_at = self.engine.stopped
            return False
        return True

    def _finish(self) -> None:
        failures = self.engine.failures
        self.engine.finish()
        self.report.failed += self.engine.failures - failures
        if self.engine.stopped:
            self.report.stopped_at = self.engine.stopped

    def _directive(self, text: str, line: Line) -> None:
        match = _MASK.match(text)
        if match:
            try:
                self.masks.append(re.compile(match.group(1)))
            except re.error as exc:
                raise UsageError(f"{line.where}: bad mask regex: {exc}") from None

    def _include_target(self, text: str, line: Line) -> Path | None:
        if self.session.current is not None or not (text == "include" or text.startswith("include ")):
            return None
        try:
            words = [t.text for t in tokenize(text, self.session.lookup)]
        except OpshError as exc:
            raise OpshError(f"{line.where}: {exc.message}", exc.hint) from None
        if len(words) != 2:
            raise UsageError(f"{line.where}: write `include FILE.opsh`")
        target = Path(words[1]).expanduser()
        return target if target.is_absolute() else line.path.parent / target

    def _dry(self, line: Line) -> bool:
        try:
            expanded = expand_text(line.text, self.session.lookup)
        except OpshError as exc:
            self.report.failed += 1
            self.report.dry_lines.append(f"{line.where}: error: {exc.message}")
            return True
        self.report.dry_lines.append(f"{line.where}: {expanded}")
        self._dry_assign(line.text)
        return True

    def _dry_assign(self, text: str) -> None:
        """`set NAME VALUE` changes only a variable, so a dry run applies it (later lines expand right)."""
        try:
            words = [t.text for t in tokenize(text, self.session.lookup)]
        except OpshError:
            return
        if len(words) >= 3 and words[0] == "set" and words[1] not in self.session.settings:
            self.session.set_variable(words[1], " ".join(words[2:]))

    def _ask(self, line: Line) -> bool:
        answer = self.session.io.ask(f"{line.where}: {line.text}\nrun it? [Y/n/q] ").strip().lower()
        if answer in ("q", "quit"):
            self.report.stopped_at = line.where
            return False
        return answer in ("", "y", "yes")

    # ------------------------------------------------------------ --check

    def _observe(self, record: StatementRecord) -> None:
        if record.depth != self.level:
            return  # ran inside a nested `replay`: its output belongs to that `replay` line
        first = record.source.split(None, 1)[0] if record.source.strip() else ""
        if first in _SKIPPED:
            return
        self.report.statements += 1
        self.seen.append(transcript.entry_for(record))

    def _compare(self) -> None:
        expected = [entry for entry in self.expected if entry.in_script]
        for step in transcript.pair_up(expected, self.seen):
            lines = self._step_diff(step)
            if lines:
                self.report.changed += 1
                self.report.diffs.extend(lines)

    def _step_diff(self, step: transcript.Step) -> list[str]:
        if step.recorded is not None and step.now is not None:
            label = f"statement {step.number}: {transcript.normalized(step.now.source)[:60]}"
            return transcript.diff(step.recorded, step.now, self.masks, label)
        if step.recorded is not None:
            text = transcript.normalized(step.recorded.source)
            return [f"transcript statement {step.number} did not run now: {text[:80]}"]
        assert step.now is not None
        return [f"statement {step.number} is not in the transcript: {transcript.normalized(step.now.source)[:80]}"]


def run_file(engine: Engine, path: Path, keep_going: bool = False) -> bool:
    """`opsh FILE`: replay a script, stopping at the first failure unless `keep_going`."""
    return ScriptReplay(engine, Options(keep_going=keep_going)).run(path).ok


def replay_result(report: Report, options: Options, name: str) -> Result:
    """The Result that `replay` and `opsh FILE` end with: the dry run, the diffs or a status."""
    if options.dry_run:
        return Result.of_text("\n".join(report.dry_lines), failed=not report.ok)
    if options.check:
        if not report.diffs:
            return Result.empty(status=f"no changes in {report.statements} statements")
        lines = [[("error" if d.startswith("-") else "ok" if d.startswith("+") else "", d)] for d in report.diffs]
        return Result.of_stream(
            lines, status=f"{report.changed} of {report.statements} statements changed", failed=True
        )
    if report.stopped_at:
        return Result.empty(status=f"stopped at {report.stopped_at}", failed=True)
    return Result.empty(status=f"replayed {name}", failed=not report.ok)
