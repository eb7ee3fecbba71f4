"""Reading the file of `pipe FILE` as a stream of commands, a block at a time.

A pipe file may be far larger than memory should hold, and the name may be a fifo (which never
ends until someone writes) or /dev/zero (which never ends at all): it is opened by the shared
reader of user-named files (shell/fileread.py), which refuses anything but a regular file, and
read in chunks, so memory holds one chunk of commands whatever the file's size. `blocks()` starts
from the file's beginning each time: `pipe` reads a large file twice (to count and check it,
then to send it).

Two formats, told apart by the first byte that is not blank: `*` is the RESP that
`redis-cli --pipe` takes (each command kept as its bytes, sent unchanged), anything else is one
command per line with redis-cli's quoting (blank lines and `#` comments skipped).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import BinaryIO

from opsh.shell.errors import OpshError, UsageError
from opsh.shell.syntax.words import split_args

CHUNK = 1 << 20
# No one command is larger than what Redis takes for one argument (proto-max-bulk-len, 512 MiB):
# a line or RESP command past this is refused instead of being gathered without end.
COMMAND_LIMIT = 512 << 20
_BLANK = b" \t\r\n"


@dataclass
class Block:
    """The commands of one stretch of the file: `lines[i]` is where the i-th starts."""

    lines: list[int] = field(default_factory=list)
    commands: list[list[bytes]] = field(default_factory=list)
    packed: list[bytes] | None = None  # RESP files: each command's bytes as read
    # Lines that could not be split (bad quoting): (line, its text, why); they are not sent.
    unreadable: list[tuple[int, str, str]] = field(default_factory=list)


def blocks(file: BinaryIO, name: str) -> Iterator[Block]:
    """The file's commands from its start, a block at a time."""
    file.seek(0)
    resp = _first_byte(file) == b"*"
    file.seek(0)
    return _resp_blocks(file, name) if resp else _text_blocks(file, name)


def _first_byte(file: BinaryIO) -> bytes:
    while chunk := file.read(CHUNK):
        text = chunk.lstrip(_BLANK)
        if text:
            return text[:1]
    return b""


# ---------------------------------------------------------------- one command per line


def _text_blocks(file: BinaryIO, name: str) -> Iterator[Block]:
    number = 1
    for data in _whole_lines(file, name):
        yield text_block(data, number)
        number += data.count(b"\n")


def _whole_lines(file: BinaryIO, name: str) -> Iterator[bytes]:
    """The file in pieces of about CHUNK bytes, each ending at the end of a line (a long line
    is gathered as a list of chunks, joined once)."""
    pending: list[bytes] = []  # the start of a line that has not ended yet
    pending_size = 0
    line = 1
    while chunk := file.read(CHUNK):
        cut = chunk.rfind(b"\n") + 1
        if not cut:
            pending.append(chunk)
            pending_size += len(chunk)
            if pending_size > COMMAND_LIMIT:
                raise _too_long(name, f"line {line} is longer")
            continue
        data = b"".join([*pending, chunk[:cut]])
        line += data.count(b"\n")
        yield data
        pending, pending_size = [chunk[cut:]], len(chunk) - cut
    if pending_size:
        yield b"".join(pending)


def text_block(data: bytes, first_line: int) -> Block:
    """The commands of whole lines of a text file. A line with bad quoting is kept apart, not
    sent. Lines without quotes (almost all) are split as bytes."""
    lines = data.split(b"\n")
    if data.endswith(b"\n"):
        lines.pop()
    block = Block()
    if b'"' not in data and b"'" not in data and b"#" not in data:
        split = [line.split() for line in lines]  # the common file: plain words only
        kept = [index for index, args in enumerate(split) if args]
        block.lines = [first_line + index for index in kept]
        block.commands = [split[index] for index in kept]
        return block
    for number, line in enumerate(lines, first_line):
        if b'"' in line or b"'" in line:
            try:
                args = [a.encode("utf-8", "surrogateescape") for a in split_args(text_of(line))]
            except UsageError as exc:
                block.unreadable.append((number, text_of(line), exc.message))
                continue
        else:
            args = line.split()
        if args and args[0][:1] != b"#":
            block.lines.append(number)
            block.commands.append(args)
    return block


def text_of(value: bytes) -> str:
    return value.decode("utf-8", "surrogateescape")


# ---------------------------------------------------------------- RESP (redis-cli --pipe)


class _Incomplete(Exception):
    """The command runs past the data read so far (by `missing` bytes, when that is known)."""

    def __init__(self, missing: int = 0) -> None:
        super().__init__(missing)
        self.missing = missing


def _resp_blocks(file: BinaryIO, name: str) -> Iterator[Block]:
    data = b""
    line = 1  # the line `data` starts on
    want = CHUNK
    while chunk := file.read(want):
        data += chunk
        block, used, missing = _resp_commands(data, line, name)
        line += data.count(b"\n", 0, used)
        data = data[used:]
        if len(data) + missing > COMMAND_LIMIT:
            raise _too_long(name, f"the command at line {line} is larger")
        want = max(CHUNK, missing)  # a large value is read in one piece, not appended to chunk by chunk
        if block.lines:
            yield block
    if data.strip(_BLANK):
        raise _not_resp(name, line + data.count(b"\n", 0, len(data) - len(data.lstrip(_BLANK))))


def _resp_commands(data: bytes, line: int, name: str) -> tuple[Block, int, int]:
    """The whole commands at the start of `data` (`*N`, then N `$LEN` bulk strings each), how
    many bytes they take, and how many more the next one needs at least (when known)."""
    block = Block(packed=[])
    assert block.packed is not None
    pos, size, counted = 0, len(data), 0
    while pos < size:
        if data[pos] in _BLANK:
            pos += 1
            continue
        start = pos
        try:
            args, pos = _resp_command(data, start)
        except _Incomplete as short:
            return block, start, short.missing
        except (ValueError, IndexError):
            raise _not_resp(name, line + data.count(b"\n", 0, start)) from None
        line += data.count(b"\n", counted, start)
        counted = start
        block.lines.append(line)
        block.commands.append(args)
        block.packed.append(data[start:pos])
    return block, pos, 0


def _resp_command(data: bytes, pos: int) -> tuple[list[bytes], int]:
    """One command at `pos`: its arguments, and where it ends."""
    if data[pos] != ord("*"):
        raise ValueError
    end = _line_end(data, pos)
    count = int(data[pos + 1 : end])
    pos = end + 2
    args = []
    for _ in range(count):
        end = _line_end(data, pos)
        if data[pos] != ord("$"):
            raise ValueError
        length = int(data[pos + 1 : end])
        if length < 0:
            raise ValueError
        stop = end + 4 + length
        if stop > len(data):
            raise _Incomplete(stop - len(data))
        if data[stop - 2 : stop] != b"\r\n":
            raise ValueError
        args.append(data[end + 2 : stop - 2])
        pos = stop
    return args, pos


def _line_end(data: bytes, pos: int) -> int:
    end = data.find(b"\r\n", pos)
    if end < 0:
        if pos >= len(data) or len(data) - pos < 32:
            raise _Incomplete
        raise ValueError  # a header line this long is no RESP header
    return end


def _too_long(name: str, what: str) -> OpshError:
    return OpshError(f"{name}: {what} than {COMMAND_LIMIT >> 20} MiB", "is it a file of Redis commands?")


def _not_resp(name: str, line: int) -> OpshError:
    return OpshError(f"{name}: not valid RESP at line {line}", "a command is *N, then N $LEN bulk strings")
