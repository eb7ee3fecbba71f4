"""`pipe FILE`: send a file of commands through the handle's connection in pipelined batches.

The file is one command per line with redis-cli's quoting (blank lines and `#` comments are
skipped), or the RESP protocol that `redis-cli --pipe` reads (sent as it is, unparsed). The
per-command cost is kept to splitting a line and packing it: replies are read and only the
errors kept, with the line they came from.
"""

from __future__ import annotations

import time
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from opsh.commands.redis import guard
from opsh.commands.redis.render import sections
from opsh.commands.redis.resp import ReplyError
from opsh.shell.errors import OpshError, UsageError
from opsh.shell.redact import redact
from opsh.shell.result import Result
from opsh.shell.syntax.words import split_args

if TYPE_CHECKING:
    from opsh.commands.redis.handle import RedisHandle
    from opsh.shell.session import Session

BATCH = 1000
SHOWN_ERRORS = 50
# Commands whose effect the handle follows (database, password, key cache).
_FOLLOWED = frozenset(("SELECT", "AUTH", "RESET", "FLUSHDB", "FLUSHALL", "CONFIG"))


@dataclass
class Command:
    line: int
    args: list[Any]  # str for text files, bytes for RESP files
    packed: bytes | None = None  # the RESP bytes as read from the file, sent unchanged


@dataclass
class Report:
    sent: int = 0
    errors: list[tuple[int, str, str]] = field(default_factory=list)
    error_count: int = 0

    def error(self, line: int, args: Sequence[Any], message: str) -> None:
        self.error_count += 1
        if len(self.errors) < SHOWN_ERRORS:
            self.errors.append((line, _command_text(args), message))


def pipe(handle: RedisHandle, session: Session, args: list[str]) -> Result:
    if len(args) != 1:
        raise UsageError("usage: pipe FILE", "one command per line (redis-cli quoting), or RESP (redis-cli --pipe)")
    path = session.path(args[0])
    data = path.read_bytes()
    report = Report()
    if data.lstrip()[:1] == b"*":
        commands: Iterable[Command] = read_resp(data, path.name)
        total = len(commands)  # type: ignore[arg-type]
    else:
        lines = data.decode("utf-8", "surrogateescape").splitlines()
        commands = read_lines(lines, report)
        total = len(lines)
        _check_lines(handle, session, lines)
    if isinstance(commands, list):
        _check_commands(handle, session, commands)
    handle.refresh_connection()
    started = time.perf_counter()
    with session.progress(total, f"pipe {path.name}") as progress:
        for batch in _batches(commands):
            _send(handle, batch, report)
            progress.advance(len(batch))
    seconds = time.perf_counter() - started
    return _result(path.name, report, seconds)


# ---------------------------------------------------------------- reading the file


def read_lines(lines: Sequence[str], report: Report) -> Iterator[Command]:
    """Commands of a text file; a line with bad quoting is an error of that line, not sent."""
    for number, line in enumerate(lines, 1):
        if '"' in line or "'" in line:
            try:
                args = split_args(line)
            except UsageError as exc:
                report.error(number, [line], exc.message)
                continue
        else:
            args = line.split()
        if args and not args[0].startswith("#"):
            yield Command(number, args)


def read_resp(data: bytes, name: str) -> list[Command]:
    """Commands of a RESP file (`*N` then N `$len` bulk strings each), kept as their bytes."""
    out: list[Command] = []
    pos, size = 0, len(data)
    line, counted = 1, 0
    try:
        while pos < size:
            if data[pos] in b" \t\r\n":
                pos += 1
                continue
            start = pos
            if data[pos] != ord("*"):
                raise ValueError
            end = data.index(b"\r\n", pos)
            args = []
            pos = end + 2
            for _ in range(int(data[start + 1 : end])):
                end = data.index(b"\r\n", pos)
                if data[pos] != ord("$"):
                    raise ValueError
                length = int(data[pos + 1 : end])
                args.append(data[end + 2 : end + 2 + length])
                pos = end + 4 + length
                if data[pos - 2 : pos] != b"\r\n":
                    raise ValueError
            line += data.count(b"\n", counted, start)
            counted = start
            out.append(Command(line, args, data[start:pos]))
    except (ValueError, IndexError):
        where = data.count(b"\n", 0, pos) + 1
        raise OpshError(
            f"{name}: not valid RESP at line {where}", "a command is *N, then N $LEN bulk strings"
        ) from None
    return out


def _batches(commands: Iterable[Command]) -> Iterator[list[Command]]:
    batch: list[Command] = []
    for command in commands:
        batch.append(command)
        if len(batch) >= BATCH:
            yield batch
            batch = []
    if batch:
        yield batch


# ---------------------------------------------------------------- before sending


def _check_lines(handle: RedisHandle, session: Session, lines: Sequence[str]) -> None:
    """Confirm destructive lines (and refuse writes on a read-only handle) before any is sent."""
    found: list[str] = []
    for number, line in enumerate(lines, 1):
        head = line.lstrip()[:8].upper()
        if head.startswith(("FLUSH", "SHUTDOWN", "CONFIG")) or handle.readonly:
            try:
                args = split_args(line)
            except UsageError:
                continue
            if args:
                _check_one(handle, number, args, found)
    _ask(session, found)


def _check_commands(handle: RedisHandle, session: Session, commands: Sequence[Command]) -> None:
    found: list[str] = []
    for command in commands:
        _check_one(handle, command.line, [_text(a) for a in command.args], found)
    _ask(session, found)


def _check_one(handle: RedisHandle, line: int, args: list[str], found: list[str]) -> None:
    guard.refuse_writes(handle, args, where=f"line {line}: ")
    danger = guard.dangerous_in_file(args)
    if danger:
        found.append(f"{danger} (line {line})")


def _ask(session: Session, found: list[str]) -> None:
    if found:
        shown = ", ".join(found[:5]) + (f" and {len(found) - 5} more" if len(found) > 5 else "")
        session.confirm(f"The file has {shown}. Send it?")


# ---------------------------------------------------------------- sending


def _send(handle: RedisHandle, batch: list[Command], report: Report) -> None:
    raw = batch[0].packed is not None  # RESP read from the file goes out unchanged
    packed = [b"".join(c.packed for c in batch)] if raw else [pack(batch)]  # type: ignore[misc]
    with handle.exchange("PIPE") as conn:
        conn.send_packed_command(packed)
        handle.wait_for_reply(False)
        read = conn.read_response
        for command in batch:
            try:
                reply = read()
            except ReplyError as exc:
                report.error(command.line, command.args, exc.text)
                continue
            if _text(command.args[0]).upper() in _FOLLOWED:
                handle.learn([_text(a) for a in command.args], reply)
    report.sent += len(batch)


def pack(batch: list[Command]) -> bytes:
    """RESP for a batch of text commands: the hot loop of `pipe`, so kept to bytes formatting
    (redis-py's general packer costs about three times as much per command)."""
    out = []
    for command in batch:
        args = command.args
        out.append(b"*%d\r\n" % len(args))
        for arg in args:
            data = arg.encode("utf-8", "surrogateescape")
            out.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(out)


def _result(name: str, report: Report, seconds: float) -> Result:
    report.errors.sort(key=lambda e: e[0])  # quoting errors are found before the replies
    rate = report.sent / seconds if seconds > 0 else 0.0
    document = {
        "file": name,
        "commands": report.sent,
        "errors": report.error_count,
        "seconds": round(seconds, 4),
        "ops_per_second": round(rate),
        "failures": [{"line": n, "command": c, "error": e} for n, c, e in report.errors],
    }
    summary = [
        ("file", name),
        ("commands sent", f"{report.sent:,}"),
        ("errors", f"{report.error_count:,}"),
        ("seconds", f"{seconds:.3f}"),
        ("ops/s", f"{rate:,.0f}"),
    ]

    def parts() -> list[Result]:
        out = [Result.mapping(summary)]
        if report.errors:
            out.append(Result.table(["line", "command", "error"], [list(e) for e in report.errors]))
        return out

    status = f"{report.sent:,} commands, {report.error_count:,} errors, {rate:,.0f} ops/s"
    if report.error_count > len(report.errors):
        status += f" (first {len(report.errors)} errors shown)"
    return sections(document, parts, status=status, failed=bool(report.error_count))


def _text(value: Any) -> str:
    return value.decode("utf-8", "surrogateescape") if isinstance(value, bytes) else str(value)


def _command_text(args: Sequence[Any]) -> str:
    text = " ".join(_text(a) for a in args)
    text = redact(text)
    return text if len(text) <= 60 else text[:57] + "..."
