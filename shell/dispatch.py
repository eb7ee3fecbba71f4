"""From typed text to rendered output: the one path every line takes.

Typed lines, `-c` strings, script lines and piped stdin all go through `Engine.feed()`. The
current mode decides where the first statement ends; the statement runs (a local command, a
`!shell` line, or the current backend's `execute()`); its Result is rendered to the screen,
a file or a pipe; errors are printed here and only here. After a mode switch the rest of the
text belongs to the new mode.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import NoReturn, TextIO

from opsh.shell import argv, formats
from opsh.shell.capture import TeeSink, keep_producers, plain_copy, renders_plainly
from opsh.shell.errors import Cancelled, NotFound, OpshError, UsageError, describe, for_stream
from opsh.shell.handles import Handle
from opsh.shell.lineparse import (
    Redirect,
    continues,
    expand_for_shell,
    expand_redirect,
    extract_redirect,
    join_continued,
    split_backslash_redirect,
    tokenize,
)
from opsh.shell.output import FileSink, OutputClosed, PipeSink, Sink, StreamSink, TerminalSink
from opsh.shell.redact import redact, redact_url
from opsh.shell.result import Result
from opsh.shell.session import Session
from opsh.shell.statement import Statement, local_statement


@dataclass
class StatementRecord:
    """What observers (recording, transcripts) learn about each statement that ran."""

    source: str  # the statement as written, terminator included, secrets redacted
    mode: str  # "local" or the handle name it ran in
    mode_after: str
    ok: bool
    exit_code: int
    seconds: float
    output: str | None  # rendered output, when the engine captures it
    error: str | None
    shell_command: bool = True  # ran as an opsh command (local mode or a `\` line)
    had_secret: bool = False  # `source` had a secret masked (it no longer replays as written)
    depth: int = 1  # 1 for a typed line; statements a `replay` runs are one deeper


class Engine:
    """Runs text in a session and keeps score of failures for the exit status."""

    def __init__(self, session: Session, out: TextIO | None = None, err: TextIO | None = None) -> None:
        self.session = session
        self.out = out or sys.stdout
        self.err = err or sys.stderr
        self.pending = ""
        self.failures = 0
        self.usage_errors = 0
        self.interrupts = 0  # statements Ctrl-C ended (exit status 130 for a batch run)
        self._cut_short = False  # the statement running showed a Result that Ctrl-C cut short
        self.capture = False
        self._capture_owners: set[int] = set()
        self.location: str | None = None  # "file.opsh:12" while a script runs
        # Statements running now, outermost first: each one's captured output. What a nested
        # statement (one a `replay` runs) printed belongs to the enclosing statement too.
        self._running: list[list[str]] = []
        self._warned: set[str] = set()
        # Exceptions that were not expected (bugs): reported like any error, and kept so the
        # in-process test helper can fail loudly instead of passing on a printed error line.
        self.internal_errors: list[BaseException] = []
        # Batch runs (-c, a script, piped stdin, replay) stop at the first failed statement
        # unless keep_going; `stopped` then says where, and the rest of the input is dropped.
        self.batch = False
        self.keep_going = False
        self.stopped: str | None = None
        self._mode_switch = False  # the statement running is a connect/use
        session.engine = self  # replay and include feed lines through the session's engine

    @property
    def depth(self) -> int:
        """How many statements are running now (a `replay` runs its lines one level deeper)."""
        return len(self._running)

    # ------------------------------------------------------------ input

    def feed(self, text: str) -> bool:
        """Run every complete statement in `text`; keep an unfinished one for the next feed.

        A line ending in a backslash continues on the next (wherever the text comes from), and
        a batch run that stopped takes no more input."""
        if self.stopped:
            return False
        text = self.pending + text
        self.pending = ""
        if continues(text.removesuffix("\n").rpartition("\n")[2]):
            self.pending = text if text.endswith("\n") else text + "\n"
            return True
        text = join_continued(text)
        ok = True
        while text.strip() and self.session.exit_code is None and not self.stopped:
            found = self.next_statement(text)
            if found is None:
                self.pending = text if text.endswith("\n") else text + "\n"
                break
            statement, shell_escape = found
            source = text[: len(text) - len(statement.rest)].strip()
            ok = self.run_statement(statement, source, shell_escape) and ok
            text = statement.rest
        return ok

    def finish(self) -> bool:
        """End of input: a statement still waiting for its terminator runs as it is."""
        text, self.pending = join_continued(self.pending.removesuffix("\n")).removesuffix("\\"), ""
        if not text.strip() or self.stopped:
            return not self.stopped
        handle = self.session.current_handle
        if handle is None:
            return self.feed(text + "\n")
        return self.run_statement(Statement.cut(text.strip(), "", ""), text.strip(), False)

    def next_statement(self, text: str) -> tuple[Statement, bool] | None:
        """The first statement in the current mode and whether it is an opsh command (local
        mode, or a `\\` line in a mode), or None while the mode waits for more lines."""
        text = text.lstrip()
        handle = self.session.current_handle
        if handle is None:
            return local_statement(text), True
        if text.startswith("\\") and _backslash_word(text) not in handle.meta_commands:
            return _shell_line(text), True
        found = handle.next_statement(text)
        if found is None and _misplaced_connect(text):
            line, newline, rest = text.partition("\n")  # answered at once, never a continuation
            found = Statement(line, rest, newline)
        return None if found is None else (found, False)

    def input_complete(self, text: str) -> bool:
        """Whether Enter should run `text` now (False: the mode wants more lines)."""
        if continues(text.rstrip("\n").rpartition("\n")[2]):
            return False
        if self.session.current_handle is None:
            return True
        remaining = join_continued(text)
        while remaining.strip():
            found = self.next_statement(remaining)
            if found is None:
                return False
            remaining = found[0].rest
        return True

    # ------------------------------------------------------------ statements

    def run_statement(self, statement: Statement, source: str, shell_escape: bool) -> bool:
        session = self.session
        mode = session.current or "local"
        started = time.monotonic()
        error: str | None = None
        exit_code = 0
        captured: list[str] = []
        self._running.append(captured)
        outer_cut_short, self._cut_short = self._cut_short, False
        try:
            handle = None if shell_escape else session.current_handle
            result_ok = self._run(statement, handle, captured)
            exit_code = 130 if self._cut_short else 0 if result_ok else 1
        except KeyboardInterrupt:
            self._cancel_current(shell_escape)
            error = self.report(Cancelled("cancelled"))
            exit_code = 130
        except Exception as exc:  # noqa: BLE001 - the single place where errors become messages
            error = self.report(exc)
            exit_code = describe(exc).exit_code
        finally:
            depth = len(self._running)
            self._running.pop()
            self._cut_short = outer_cut_short
        seconds = time.monotonic() - started
        ok = exit_code == 0
        mode_switch, self._mode_switch = self._mode_switch, False
        if exit_code == 130:
            self.interrupts += 1
        if not ok:
            self.failures += 1
            if self.batch and (mode_switch or not self.keep_going):
                self.stop(source, mode_switch)
        session.last.line = source
        session.last.ok = ok
        session.last.seconds = seconds
        session.last.exit_code = exit_code
        if error:
            session.last.status = error
        public = redact_url(source)  # a URL password is dropped entirely: replay prompts for it
        masked = redact(public)
        record = StatementRecord(
            masked,
            mode,
            session.current or "local",
            ok,
            exit_code,
            seconds,
            "".join(captured) if self.capture else None,
            error,
            shell_escape or mode == "local",
            masked != public,
            depth,
        )
        if self.capture and self._running:
            self._running[-1].append("".join(captured) + (error + "\n" if error else ""))
        for observer in list(session.observers):
            observer(record)
        return ok

    def _run(self, statement: Statement, handle: Handle | None, captured: list[str]) -> bool:
        if handle is None:
            return self._run_local(statement.text, captured)
        if statement.discarded:
            return self.emit(Result.empty(status="statement discarded"), None, None, captured)
        text = statement.text
        if text.strip().rstrip(";").strip().lower() in ("exit", "quit"):
            # Like leaving mycli or mongosh: back to opsh's local mode, the handle stays open.
            self.session.use("local")
            self.session.last.status = f"left {handle.name} (still open: `use {handle.name}` goes back)"
            self._status(self.session.last.status)
            return True
        if _misplaced_connect(text):
            raise UsageError(
                f"`connect` is not a {handle.kind} statement",
                "inside a mode, opsh commands start with \\: write \\connect URL",
            )
        if statement.vertical and not text.strip():
            raise UsageError(f"no statement before {statement.terminator}", "e.g. SELECT * FROM users LIMIT 1\\G")
        redirect = self._mode_redirect(statement.redirect)
        result = handle.run(self.session, handle.expand(text, self.session.lookup))
        if statement.vertical:
            result.force_format = "vertical"
        return self.emit(result, None, redirect, captured)

    def _mode_redirect(self, redirect: Redirect | None) -> Redirect | None:
        """A mode line's `\\>` target, checked, with `${var}` expanded in the target alone."""
        if redirect is None:
            return None
        if not redirect.target:
            raise UsageError(f"missing target after \\{redirect.kind}")
        if "\n" in redirect.target:
            hint = "put it last in the statement"
            raise UsageError(f"the target of \\{redirect.kind} runs past the end of its line", hint)
        return expand_redirect(redirect, self.session.lookup)

    def _run_local(self, statement: str, captured: list[str]) -> bool:
        text = statement.strip()
        if not text:
            return True
        if text.startswith("!"):
            return self._run_shell(expand_for_shell(text[1:], self.session.lookup), captured)
        text, slash_redirect = split_backslash_redirect(text)
        tokens = tokenize(text, self.session.lookup)
        tokens, redirect = extract_redirect(tokens, text)
        if redirect and slash_redirect:
            raise UsageError("two redirections on one line")
        if redirect is not None and redirect.kind == "|":  # the raw text after `|` (a `> f` is a word, expanded)
            redirect = expand_redirect(redirect, self.session.lookup)
        elif slash_redirect is not None:
            redirect = expand_redirect(slash_redirect, self.session.lookup)
        if not tokens:
            if redirect:
                raise UsageError("nothing to redirect")
            return True
        command = self.session.registry.find(tokens[0].text) or _unknown(self.session, tokens[0].text, text)
        self._mode_switch = command.switches_mode
        parsed = argv.parse(command, tokens[1:])
        with self._assume_yes(parsed.yes):
            result = parsed.command().run(self.session, parsed.args)
        return self.emit(result, parsed.format, redirect, captured)

    def _run_shell(self, command: str, captured: list[str]) -> bool:
        if not command.strip():
            raise UsageError("nothing to run after !", "e.g. !uptime")
        self.out.flush()
        if self.capture or not _has_fd(self.out):
            # Transcripts and in-process callers need the output as text, not on the terminal.
            proc = subprocess.Popen(command, shell=True, cwd=self.session.cwd, stdout=subprocess.PIPE, text=True)
        else:  # no pipes: `text` only keeps the two branches' types alike
            proc = subprocess.Popen(command, shell=True, cwd=self.session.cwd, text=True)
        try:
            if proc.stdout is not None:
                for line in proc.stdout:
                    self.out.write(line)
                    captured.append(line)
            code = proc.wait()
        except KeyboardInterrupt:
            _stop_child(proc)
            raise
        self.session.last.status = f"exit {code}"
        if code != 0:
            self._status(f"exit status {code}")
        return code == 0

    @contextmanager
    def _assume_yes(self, yes: bool) -> Iterator[None]:
        before = self.session.io.assume_yes
        self.session.io.assume_yes = before or yes
        try:
            yield
        finally:
            self.session.io.assume_yes = before

    def _cancel_current(self, shell_escape: bool) -> None:
        handle = None if shell_escape else self.session.current_handle
        if handle is None:
            return
        try:
            handle.cancel()
        except Exception as exc:  # noqa: BLE001 - cancelling must never hide the interrupt
            self.report(exc)

    # ------------------------------------------------------------ output

    def emit(self, result: Result, fmt: str | None, redirect: Redirect | None, captured: list[str]) -> bool:
        """Render `result` (and what follows it) where the line asked; True unless it failed.

        A file or pipe is opened once for the whole chain (a summary after a stream lands in the
        same file); the terminal gets a sink per result so each can decide on paging.
        """
        shared = self._sink_for(redirect, result) if redirect is not None else None
        ok = True
        current: Result | None = result
        try:
            while current is not None:
                ok = self._emit_one(current, fmt, redirect, shared, captured) and ok
                current = current.then() if current.then else None
        except OutputClosed:
            pass
        finally:
            if shared is not None:
                try:
                    shared.close()
                except OutputClosed:
                    pass
        if isinstance(shared, PipeSink):
            _check_pipe(shared)
        return ok

    def _emit_one(
        self, result: Result, fmt: str | None, redirect: Redirect | None, shared: Sink | None, captured: list[str]
    ) -> bool:
        chosen = self._format_for(result, fmt, redirect)
        started = time.monotonic()
        if result.notice and redirect is None:
            self._status(result.notice)
        sink = shared or self._sink_for(None, result)
        tee = TeeSink(sink) if self.capture and renders_plainly(sink) else None
        if self.capture and tee is None:
            keep_producers(result)
        from opsh.shell.render import render  # json, csv, decimal: not needed before the first output

        table_style = str(self.session.settings.get("table_style"))
        try:
            count = render(result, chosen, tee or sink, table_style)
        except OutputClosed:
            if shared is not None:
                raise
            count = 0
        finally:
            result.close_producers()
            if shared is None:
                try:
                    sink.close()
                except OutputClosed:
                    pass
        if tee is not None:
            captured.append(tee.copy.getvalue())
        elif self.capture:
            captured.append(plain_copy(result, chosen, table_style))
        self._finish_status(result, count, time.monotonic() - started, redirect)
        if result.interrupted:  # Ctrl-C, caught by the command: ends like the SQL path's interrupt
            self._cut_short = True
        return not result.failed

    def _format_for(self, result: Result, fmt: str | None, redirect: Redirect | None) -> str:
        if fmt:
            return fmt
        if result.force_format:
            return result.force_format
        if redirect and redirect.kind != "|":
            by_extension = formats.for_extension(os.path.splitext(redirect.target)[1])
            if by_extension:
                return by_extension
        return effective_format(self.session, result.format_hint)

    def _sink_for(self, redirect: Redirect | None, result: Result) -> Sink:
        if redirect is not None:
            if redirect.kind == "|":
                return PipeSink(redirect.target, self.session.cwd)
            return FileSink(self.session.path(redirect.target), append=redirect.kind == ">>")
        color = self._color(self.out)
        if _isatty(self.out):
            pager = bool(self.session.settings.get("pager")) and self.session.io.interactive and result.kind != "stream"
            return TerminalSink(self.out, color, pager)
        return StreamSink(self.out, color)

    def _color(self, stream: TextIO) -> bool:
        setting = self.session.settings.get("color")
        if setting == "on":
            return True
        if setting == "off":
            return False
        return _isatty(stream) and not os.environ.get("NO_COLOR") and os.environ.get("TERM") != "dumb"

    def _finish_status(self, result: Result, count: int, seconds: float, redirect: Redirect | None) -> None:
        status = result.status
        if not status and result.kind == "table":
            status = f"{count} row{'s' if count != 1 else ''}"
        if redirect is not None and redirect.kind != "|" and result.kind in ("table", "document"):
            status = f"{status or 'output'} written to {redirect.target}"
        self.session.last.status = status
        if status:
            self._status(status)

    def _status(self, text: str) -> None:
        """Status lines are for a person at the terminal; scripts and pipes get only results."""
        if not (self.session.io.interactive and _isatty(self.err)):
            return
        color = self._color(self.err)
        text = for_stream(text, self.err)
        self.err.write(f"\x1b[2m{text}\x1b[0m\n" if color else f"{text}\n")
        self.err.flush()

    # ------------------------------------------------------------ batch runs

    def stop(self, source: str, mode_switch: bool = False) -> None:
        """A batch run stops at its first failed statement: what follows is dropped (the rest of a
        `;` line too), and an open transaction is rolled back rather than left for a later COMMIT."""
        self.stopped = self.location or source.split("\n", 1)[0][:60]
        self.pending = ""
        if mode_switch and self.keep_going:
            self.notice("stopping: the lines that follow were meant for the mode this line did not open")
        self.rollback_open_transactions("the run stopped at a failed line")

    def rollback_open_transactions(self, why: str) -> None:
        for handle in list(self.session.handles.values()):
            try:
                rolled_back = handle.rollback_open_transaction()
            except Exception as exc:  # noqa: BLE001 - reported, and the run ends anyway
                self.report(exc)
                continue
            if rolled_back:
                self.notice(f"rolled back the open transaction on {handle.name} ({why})")

    def end_batch(self) -> None:
        """End of a batch's input: nothing is committed that the input did not COMMIT."""
        if not self.stopped:
            self.rollback_open_transactions("no COMMIT before the end of the input")

    def notice(self, text: str) -> None:
        """A line the user must see even in a script (unlike status lines): on stderr."""
        self.out.flush()
        self.err.write(f"opsh: {for_stream(text, self.err)}\n")
        self.err.flush()

    def capture_for(self, owner: object) -> None:
        """Keep a plain copy of every statement's output (for StatementRecord.output) while any
        owner (a transcript recording, a replay --check) wants it."""
        self._capture_owners.add(id(owner))
        self.capture = True

    def release_capture(self, owner: object) -> None:
        self._capture_owners.discard(id(owner))
        self.capture = bool(self._capture_owners)

    def warn(self, text: str, once: str | None = None) -> None:
        """A warning line on stderr: something went wrong beside the command (a history or
        recording write), which still ran. With `once`, only the first of that kind is shown."""
        if once is not None:
            if once in self._warned:
                return
            self._warned.add(once)
        color = self._color(self.err)
        text = for_stream(text, self.err)
        self.out.flush()
        self.err.write(f"\x1b[33mwarning: {text}\x1b[0m\n" if color else f"warning: {text}\n")
        self.err.flush()

    def report(self, exc: BaseException) -> str:
        described = describe(exc)
        if not described.expected:
            self.internal_errors.append(exc)
        if isinstance(exc, UsageError):
            self.usage_errors += 1
        line = described.line()
        if self.location:
            line = f"error: {self.location}: {line[len('error: ') :]}"
        if self.session.debug:
            import traceback

            self.err.write("".join(traceback.format_exception(exc)))
        color = self._color(self.err)
        shown = for_stream(line, self.err)
        self.out.flush()
        self.err.write(f"\x1b[31m{shown}\x1b[0m\n" if color else f"{shown}\n")
        self.err.flush()
        return line

    def exit_status(self) -> int:
        """130 when Ctrl-C ended a statement (a wrapper must tell it from a failure), 2 for a
        usage error, 1 for any other failure."""
        if self.interrupts:
            return 130
        if self.usage_errors:
            return 2
        return 1 if self.failures else 0


def effective_format(session: Session, hint: str | None) -> str:
    """The `format` setting, or a result's preferred format while the setting is left at default."""
    chosen = str(session.settings.get("format"))
    if hint and not session.settings.is_explicit("format"):
        return hint
    return chosen


def _check_pipe(pipe: PipeSink) -> None:
    """`| command` fails the statement when the command fails (exits non-zero, is killed, or
    cannot start: the shell's 127), as under `set -o pipefail`: a batch stops there and the
    error names the command and how it ended. Ctrl-C that killed it is an interrupt (130)."""
    code = pipe.exit_status()
    if not code:
        return
    where = f"| {pipe.command}"
    if code == -signal.SIGINT:
        raise Cancelled(f"{where}: interrupted")
    if code < 0:
        raise OpshError(f"{where}: killed by {_signal_name(-code)}")
    hint = "the command was not found" if code == 127 else None
    raise OpshError(f"{where}: exit status {code}", hint)


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"


def _shell_line(text: str) -> Statement:
    """A `\\cmd` line inside a mode: an opsh command to the end of its line (or a `;`)."""
    line, newline, after = text.partition("\n")
    first = local_statement(line)
    rest = first.rest + newline + after if first.rest else after
    return Statement(first.text, rest, first.terminator or newline)


_CONNECT_URL = re.compile(r"^\s*connect\s+[A-Za-z][A-Za-z0-9+.-]*://", re.I)


def _misplaced_connect(text: str) -> bool:
    """`connect URL` typed in a mode, where it would go to the backend: meant as \\connect."""
    return bool(_CONNECT_URL.match(text))


def _backslash_word(text: str) -> str:
    word = text.split(None, 1)[0] if text.strip() else ""
    for end in (";",):
        word = word.split(end, 1)[0]
    return word


def _stop_child(proc: subprocess.Popen[str]) -> None:
    try:
        proc.wait(timeout=1)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
    except KeyboardInterrupt:
        proc.kill()
        proc.wait()


def _has_fd(stream: TextIO) -> bool:
    try:
        stream.fileno()
    except (AttributeError, ValueError, OSError):
        return False
    return True


def _unknown(session: Session, name: str, line: str) -> NoReturn:
    """An unknown command, with what the line most likely meant: a statement for an open
    handle (`select 1;` in the local mode), a program of this machine (`grep ERROR x.log`),
    else the opsh commands it is close to."""
    for handle in session.handles.values():
        for command in session.registry.primary:
            sent = command.sends(handle, line)
            if sent is not None:
                others = [h.name for h in session.handles.values() if h.kind == handle.kind and h is not handle]
                also = "".join(f" (or `use {other}`)" for other in others[:2])
                raise NotFound(f"unknown command: {name}", f"`use {handle.name}`{also} sends lines there, or: {sent}")
    if shutil.which(name):
        raise NotFound(f"unknown command: {name}", f"`!{line}` runs it in the shell")
    session.registry.get(name)  # raises, naming the commands it is close to
    raise NotFound(f"unknown command: {name}")


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False
