"""`pipe FILE`: send a file of commands through the handle's connection in pipelined batches.

The file is one command per line with redis-cli's quoting (blank lines and `#` comments are
skipped), or the RESP protocol that `redis-cli --pipe` reads (sent as it is, unparsed). It is
the hot path of bulk loading, so the per-command cost is kept to splitting a line (as bytes)
and one formatting of its RESP; the next batch is sent before the replies of the previous one
are read (Redis buffers replies, so the two directions cannot block each other), and the
replies are counted by a scanner over the raw bytes that keeps only the errors, with the line
they came from. Files with commands whose effect the handle follows (SELECT, AUTH, MULTI...)
take the slower path that reads each reply whole.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable, Iterator, Sequence
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
    from opsh.commands.redis.handle import RedisHandle, Wire
    from opsh.shell.session import Session

BATCH = 1000
BATCH_BYTES = 4 << 20  # a batch is sent once it packs this much (large values)
SHOWN_ERRORS = 50
# Commands whose effect the handle follows (database, password, transaction, key cache).
_FOLLOWED = frozenset(
    ("SELECT", "AUTH", "RESET", "FLUSHDB", "FLUSHALL", "CONFIG", "MULTI", "EXEC", "DISCARD", "WATCH", "UNWATCH")
)
_FOLLOWED_NAMES = frozenset(w.encode() for w in _FOLLOWED)
_MAYBE_DANGEROUS = frozenset((b"FLUSHALL", b"FLUSHDB", b"SHUTDOWN", b"CONFIG"))


@dataclass
class Command:
    line: int
    args: list[Any]  # bytes (or str from a quoted line) for text files, bytes for RESP files
    packed: bytes | None = None  # the RESP bytes as read from the file, sent unchanged


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


def pipe(handle: RedisHandle, session: Session, args: list[str]) -> Result:
    if len(args) != 1:
        raise UsageError("usage: pipe FILE", "one command per line (redis-cli quoting), or RESP (redis-cli --pipe)")
    path = session.path(args[0])
    data = path.read_bytes()
    report = Report()
    if data.lstrip()[:1] == b"*":
        resp = read_resp(data, path.name)
        total = len(resp)
        numbers, commands = [c.line for c in resp], [c.args for c in resp]
        batches: Iterable[Batch] = resp_batches(resp)
    else:
        numbers, commands = read_lines(data, report)
        total = len(commands)
        batches = text_batches(numbers, commands)
    names = {bytes(args[0]).upper() for args in commands}
    _check(handle, session, numbers, commands, names)
    followed = bool(names & _FOLLOWED_NAMES)
    handle.refresh_connection()
    started = time.perf_counter()
    with session.progress(total, f"pipe {path.name}") as progress:
        sent = _send_one_by_one if followed else _send_overlapped
        sent(handle, batches, report, progress.advance)
    seconds = time.perf_counter() - started
    handle.rescan.set()  # the file surely changed keys: completion looks again
    return _result(path.name, report, seconds)


# ---------------------------------------------------------------- reading the file


def read_lines(data: bytes, report: Report) -> tuple[list[int], list[list[bytes]]]:
    """(line numbers, arguments) of a text file's commands. A line with bad quoting is an error
    of that line, not sent. Lines without quotes (almost all) are split as bytes."""
    lines = data.split(b"\n")
    if b'"' not in data and b"'" not in data and b"#" not in data:
        split = [line.split() for line in lines]  # the common file: plain words only
        kept = [index for index, args in enumerate(split) if args]
        return [index + 1 for index in kept], [split[index] for index in kept]
    numbers: list[int] = []
    commands: list[list[bytes]] = []
    for number, line in enumerate(lines, 1):
        if b'"' in line or b"'" in line:
            try:
                args = [a.encode("utf-8", "surrogateescape") for a in split_args(_text(line))]
            except UsageError as exc:
                report.error(number, [_text(line)], exc.message)
                continue
        else:
            args = line.split()
        if args and args[0][:1] != b"#":
            numbers.append(number)
            commands.append(args)
    return numbers, commands


def text_batches(numbers: list[int], commands: list[list[bytes]]) -> Iterator[Batch]:
    """The commands packed as RESP, BATCH commands (or BATCH_BYTES) at a time."""
    out: list[bytes] = []
    size = start = 0
    for index, args in enumerate(commands):
        packed = pack_args(args)
        out.append(packed)
        size += len(packed)
        if len(out) >= BATCH or size >= BATCH_BYTES:
            yield Batch(b"".join(out), numbers[start : index + 1], commands[start : index + 1])
            out, size, start = [], 0, index + 1
    if out:
        yield Batch(b"".join(out), numbers[start:], commands[start:])


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


def resp_batches(commands: Sequence[Command]) -> Iterator[Batch]:
    for start in range(0, len(commands), BATCH):
        part = commands[start : start + BATCH]
        yield Batch(b"".join(c.packed or b"" for c in part), [c.line for c in part], [c.args for c in part])


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


# ---------------------------------------------------------------- before sending


def _check(
    handle: RedisHandle, session: Session, numbers: list[int], commands: list[list[Any]], names: set[bytes]
) -> None:
    """Confirm destructive commands (and refuse writes on a read-only handle) before any is
    sent; only the commands that may be one are looked at closely."""
    if not handle.readonly and not names & _MAYBE_DANGEROUS:
        return
    found: list[str] = []
    for number, args in zip(numbers, commands, strict=True):
        if handle.readonly or bytes(args[0]).upper() in _MAYBE_DANGEROUS:
            _check_one(handle, number, [_text(a) for a in args], found)
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
    handle refreshes the connection before a pipe), with the handle's read timeout."""

    def __init__(self, conn: Wire) -> None:
        self.sock = conn._sock
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
                size = int(buf[pos + 1 : end])
                stop = end + 4 + size if size >= 0 else end + 2
            elif kind == 45:  # -error
                errors.append((got, buf[pos + 1 : end].decode("utf-8", "replace")))
                stop = end + 2
            else:
                stop = _skip(buf, pos)
                if kind == 62 and stop >= 0:  # a RESP3 push (an invalidation) is no reply
                    self.pos = stop
                    continue
            if stop < 0 or stop > len(buf):
                self._fill()
                continue
            self.pos = stop
            got += 1
        return errors


def _skip(buf: bytes, pos: int) -> int:
    """End of the reply at `pos` (any RESP2/RESP3 type), or -1 when it is not all there yet."""
    end = buf.find(b"\r\n", pos)
    if end < 0:
        return -1
    kind = buf[pos : pos + 1]
    if kind in (b"$", b"=", b"!"):
        size = int(buf[pos + 1 : end])
        return end + 4 + size if size >= 0 else end + 2
    if kind in (b"*", b"~", b">", b"%", b"|"):
        items = int(buf[pos + 1 : end])
        items = items * 2 if kind in (b"%", b"|") else items
        stop = end + 2
        for _ in range(max(items, 0)):
            if stop >= len(buf):
                return -1
            stop = _skip(buf, stop)
            if stop < 0:
                return -1
        if kind == b"|":  # attributes precede the reply they describe
            return -1 if stop >= len(buf) else _skip(buf, stop)
        return stop
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
