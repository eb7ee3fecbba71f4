"""`pipe FILE`: send a file of commands through the handle's connection in pipelined batches.

The file is one command per line with redis-cli's quoting (blank lines and `#` comments are
skipped), or the RESP protocol that `redis-cli --pipe` reads (sent as it is, unparsed). A file
larger than one read is streamed (pipefile.py), once to count and check it and once to send it,
so its size is not bounded by memory. It is the hot path of bulk loading, so the per-command cost is kept to
splitting a line (as bytes) and one formatting of its RESP; the next batch is sent before the
replies of the previous one are read (Redis buffers replies, so the two directions cannot block
each other), and the replies are counted by a scanner over the raw bytes that keeps only the
errors, with the line they came from. Files with commands whose effect the handle follows
(SELECT, AUTH, MULTI...) take the slower path that reads each reply whole.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, BinaryIO

from opsh.commands.redis import guard
from opsh.commands.redis.pipefile import CHUNK, Block, blocks
from opsh.commands.redis.render import sections
from opsh.commands.redis.resp import (
    MAX_DEPTH,
    BadReply,
    MalformedReply,
    ReplyError,
    length,
    too_deep,
    unknown_type,
)
from opsh.commands.shared.redisconn import endpoint
from opsh.shell.errors import UsageError
from opsh.shell.fileread import open_regular
from opsh.shell.redact import redact
from opsh.shell.result import Result

if TYPE_CHECKING:
    from opsh.commands.redis.handle import RedisHandle, Wire
    from opsh.shell.session import Session

BATCH = 1000
BATCH_BYTES = 4 << 20  # a batch is sent once it packs this much (large values)
SHOWN_ERRORS = 50
SHOWN_DANGERS = 5
# Commands whose effect the handle follows (database, password, transaction, key cache).
_FOLLOWED = frozenset(
    ("SELECT", "AUTH", "RESET", "FLUSHDB", "FLUSHALL", "CONFIG", "MULTI", "EXEC", "DISCARD", "WATCH", "UNWATCH")
)
_FOLLOWED_NAMES = frozenset(w.encode() for w in _FOLLOWED)
_MAYBE_DANGEROUS = frozenset((b"FLUSHALL", b"FLUSHDB", b"SHUTDOWN", b"CONFIG"))


@dataclass
class Batch:
    """Commands packed for one send: `lines[i]` is the file line of the i-th command."""

    data: bytes
    lines: list[int]
    commands: list[list[Any]]


@dataclass
class Report:
    sent: int = 0
    errors: list[tuple[int, str, str]] = field(default_factory=list)
    error_count: int = 0

    def error(self, line: int, args: Sequence[Any], message: str) -> None:
        self.error_count += 1
        if len(self.errors) < SHOWN_ERRORS:
            self.errors.append((line, _command_text(args), message))


@dataclass
class Survey:
    """What the first reading of the file found: how many commands, whether the handle must
    follow their effect, and the dangerous ones to ask about."""

    total: int = 0
    followed: bool = False
    dangers: list[str] = field(default_factory=list)
    danger_count: int = 0


def pipe(handle: RedisHandle, session: Session, args: list[str]) -> Result:
    if len(args) != 1:
        raise UsageError("usage: pipe FILE", "one command per line (redis-cli quoting), or RESP (redis-cli --pipe)")
    path = session.path(args[0])
    with open_regular(path, args[0]) as file:
        read = _reader(file, path.name)
        survey = _survey(handle, read())
        _ask(session, survey)
        handle.refresh_connection()
        report = Report()
        started = time.perf_counter()
        with session.progress(survey.total, f"pipe {path.name}") as progress:
            sent = _send_one_by_one if survey.followed else _send_overlapped
            sent(handle, batched(read(), report), report, progress.advance)
        seconds = time.perf_counter() - started
    handle.rescan.set()  # the file surely changed keys: completion looks again
    return _result(path.name, report, seconds)


# ---------------------------------------------------------------- reading the file


def _reader(file: BinaryIO, name: str) -> Callable[[], Iterable[Block]]:
    """Each reading of the file's commands from its start: a small file (one read's worth) is
    split once and kept for the second reading, a larger one is streamed both times."""
    if os.fstat(file.fileno()).st_size > CHUNK:
        return lambda: blocks(file, name)
    held = list(blocks(file, name))
    return lambda: held


def batched(stream: Iterable[Block], report: Report) -> Iterator[Batch]:
    """The commands packed as RESP (a RESP file's as they were read), BATCH commands (or
    BATCH_BYTES) at a time; lines that could not be split go to the report."""
    data: list[bytes] = []
    lines: list[int] = []
    commands: list[list[Any]] = []
    size = 0
    for block in stream:
        for number, text, message in block.unreadable:
            report.error(number, [text], message)
        packed: Iterable[bytes] = block.packed if block.packed is not None else map(pack_args, block.commands)
        for number, args, one in zip(block.lines, block.commands, packed, strict=True):
            data.append(one)
            lines.append(number)
            commands.append(args)
            size += len(one)
            if len(lines) >= BATCH or size >= BATCH_BYTES:
                yield Batch(b"".join(data), lines, commands)
                data, lines, commands, size = [], [], [], 0
    if lines:
        yield Batch(b"".join(data), lines, commands)


def pack_args(args: Sequence[bytes]) -> bytes:
    """One command as RESP. The common arities are one formatting each: this is the hot loop
    of `pipe` (redis-py's general packer costs about three times as much per command)."""
    count = len(args)
    if count == 2:
        a, b = args
        return b"*2\r\n$%d\r\n%b\r\n$%d\r\n%b\r\n" % (len(a), a, len(b), b)
    if count == 3:
        a, b, c = args
        return b"*3\r\n$%d\r\n%b\r\n$%d\r\n%b\r\n$%d\r\n%b\r\n" % (len(a), a, len(b), b, len(c), c)
    return b"*%d\r\n" % count + b"".join(b"$%d\r\n%b\r\n" % (len(a), a) for a in args)


# ---------------------------------------------------------------- before sending


def _survey(handle: RedisHandle, stream: Iterable[Block]) -> Survey:
    """Read the file through once before anything is sent: count its commands, refuse writes on
    a read-only handle and find destructive commands (only the commands that may be one are
    looked at closely). A RESP file that is not valid is refused here, whole."""
    survey = Survey()
    for block in stream:
        survey.total += len(block.lines)
        names = {name.upper() for name in {args[0] for args in block.commands}}
        survey.followed = survey.followed or bool(names & _FOLLOWED_NAMES)
        if handle.readonly or names & _MAYBE_DANGEROUS:
            for number, args in zip(block.lines, block.commands, strict=True):
                if handle.readonly or args[0].upper() in _MAYBE_DANGEROUS:
                    _check_one(handle, number, [_text(a) for a in args], survey)
    return survey


def _check_one(handle: RedisHandle, line: int, args: list[str], survey: Survey) -> None:
    guard.refuse_writes(handle, args, where=f"line {line}: ")
    danger = guard.dangerous_in_file(args)
    if danger:
        survey.danger_count += 1
        if len(survey.dangers) < SHOWN_DANGERS:
            survey.dangers.append(f"{danger} (line {line})")


def _ask(session: Session, survey: Survey) -> None:
    if survey.danger_count:
        more = survey.danger_count - len(survey.dangers)
        shown = ", ".join(survey.dangers) + (f" and {more} more" if more else "")
        session.confirm(f"The file has {shown}. Send it?")


# ---------------------------------------------------------------- sending


def _send_overlapped(
    handle: RedisHandle, batches: Iterable[Batch], report: Report, advance: Callable[[int], None]
) -> None:
    """Each batch is sent before the replies of the one before it are read, so the server
    works while opsh scans; at most two batches are in flight."""
    with handle.exchange("PIPE") as conn:
        scanner = ReplyScanner(conn)
        previous: Batch | None = None
        for batch in batches:
            conn.send_packed_command([batch.data], check_health=False)
            if previous is not None:
                _count(scanner, previous, report, advance)
            previous = batch
        if previous is not None:
            _count(scanner, previous, report, advance)


def _count(scanner: ReplyScanner, batch: Batch, report: Report, advance: Callable[[int], None]) -> None:
    for index, message in scanner.errors_of(len(batch.lines)):
        report.error(batch.lines[index], batch.commands[index], message)
    report.sent += len(batch.lines)
    advance(len(batch.lines))


def _send_one_by_one(
    handle: RedisHandle, batches: Iterable[Batch], report: Report, advance: Callable[[int], None]
) -> None:
    """The careful path: every reply read whole, so the handle follows SELECT, AUTH, MULTI..."""
    for batch in batches:
        with handle.exchange("PIPE") as conn:
            conn.send_packed_command([batch.data])
            handle.wait_for_reply(False)
            for line, args in zip(batch.lines, batch.commands, strict=True):
                words = [_text(a) for a in args]
                try:
                    reply = conn.read_response()
                except ReplyError as exc:
                    report.error(line, args, exc.text)
                    handle.follow_transaction(words, answered=False)
                    continue
                if words[0].upper() in _FOLLOWED:
                    handle.follow_transaction(words)
                    handle.learn(words, reply)
        report.sent += len(batch.lines)
        advance(len(batch.lines))


class ReplyScanner:
    """Counts replies in the raw bytes from the socket, keeping only top-level errors.

    It reads the socket of redis-py's Connection directly (`_sock`, pinned in
    tests/unit/test_redis_resp.py) after the connection's own buffer was found empty (the
    handle refreshes the connection before a pipe), with the handle's read timeout. It checks
    what framing needs (type bytes, lengths, nesting): bytes that break it are a MalformedReply,
    as in the typed parser (resp.py)."""

    def __init__(self, conn: Wire) -> None:
        self.sock = conn._sock
        self.where = endpoint(conn)
        self.buffer = b""
        self.pos = 0

    def _fill(self) -> None:
        from redis.exceptions import ConnectionError as RedisConnectionError

        chunk = self.sock.recv(1 << 18)
        if not chunk:
            raise RedisConnectionError("Connection closed by server.")
        self.buffer = self.buffer[self.pos :] + chunk
        self.pos = 0

    def errors_of(self, count: int) -> list[tuple[int, str]]:
        """Read `count` replies; (index, text) of those that are error replies."""
        try:
            return self._errors_of(count)
        except BadReply as bad:
            raise MalformedReply.at(self.where, bad.detail) from None

    def _errors_of(self, count: int) -> list[tuple[int, str]]:
        errors: list[tuple[int, str]] = []
        got = 0
        while got < count:
            buf, pos = self.buffer, self.pos
            end = buf.find(b"\r\n", pos)
            if end < 0:
                self._fill()
                continue
            kind = buf[pos]
            if kind == 43 or kind == 58:  # +simple, :integer
                stop = end + 2
            elif kind == 36:  # $bulk
                size = length(buf[pos + 1 : end], "bulk string length")
                stop = end + 4 + size if size >= 0 else end + 2
            elif kind == 45:  # -error
                errors.append((got, buf[pos + 1 : end].decode("utf-8", "replace")))
                stop = end + 2
            else:
                stop = _skip(buf, pos, 0)
                if kind == 62 and stop >= 0:  # a RESP3 push (an invalidation) is no reply
                    self.pos = stop
                    continue
            if stop < 0 or stop > len(buf):
                self._fill()
                continue
            self.pos = stop
            got += 1
        return errors


_SIZED = frozenset((b"$", b"=", b"!"))
_NESTED = frozenset((b"*", b"~", b">", b"%", b"|"))
_LINES = frozenset((b"+", b"-", b":", b"_", b",", b"#", b"("))


def _skip(buf: bytes, pos: int, depth: int) -> int:
    """End of the reply at `pos` (any RESP2/RESP3 type), or -1 when it is not all there yet."""
    end = buf.find(b"\r\n", pos)
    if end < 0:
        return -1
    kind = buf[pos : pos + 1]
    if kind in _SIZED:
        size = length(buf[pos + 1 : end], "bulk string length")
        return end + 4 + size if size >= 0 else end + 2
    if kind in _NESTED:
        if depth >= MAX_DEPTH:
            raise too_deep()
        items = length(buf[pos + 1 : end], "multi-bulk length")
        items = items * 2 if kind in (b"%", b"|") else items
        stop = end + 2
        for _ in range(max(items, 0)):
            if stop >= len(buf):
                return -1
            stop = _skip(buf, stop, depth + 1)
            if stop < 0:
                return -1
        if kind == b"|":  # attributes precede the reply they describe
            return -1 if stop >= len(buf) else _skip(buf, stop, depth + 1)
        return stop
    if kind not in _LINES:
        raise unknown_type(kind)
    return end + 2


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
