"""Reading a file the user named, safely: only regular files, and never more than a bound.

Where opsh expects a file (an archive, a script, a list of items, a sums file, text to show)
the name could be /dev/zero, which never ends, or a fifo, which blocks until someone writes.
Reading either "whole" once grew opsh to 23 GB with Ctrl-C ignored. So every such read goes
through here: the file is opened without blocking, anything but a regular file is refused
before a byte is read, and a whole-file read stops at a limit. Reads happen in chunks from
Python, so Ctrl-C always gets through. It lives in the core because scripts (history/) and
the commands both read files this way.
"""

from __future__ import annotations

import io
import os
import stat
from pathlib import Path

from opsh.shell.errors import NotFound, OpshError, UsageError

CHUNK = 1024 * 1024
DEFAULT_LIMIT = 64 * 1024 * 1024  # far above any script, list or sums file a person writes
_KINDS = {
    stat.S_IFCHR: "character device",
    stat.S_IFBLK: "block device",
    stat.S_IFIFO: "fifo (named pipe)",
    stat.S_IFSOCK: "socket",
}


class NotRegularFile(UsageError):
    """A device, fifo, socket or directory where a regular file was expected."""


class FileTooLarge(OpshError):
    """A whole-file read went past its limit."""


def open_regular(
    path: Path | str, shown: str | None = None, what: str = "file", *, devices: bool = False
) -> io.BufferedReader:
    """Open `path` for reading in binary, refusing anything but a regular file.

    `devices=True` also lets character devices through, for callers that read a bounded
    amount themselves (`head --hex -n 4 /dev/urandom`); fifos and sockets are refused always,
    as reading them blocks. The open itself never blocks (O_NONBLOCK: a fifo with no writer)."""
    shown = shown or str(path)
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise NotFound(f"no such {what}: {shown}") from None
    except IsADirectoryError:
        raise NotRegularFile(f"{shown} is a directory, not {_a(what)}") from None
    try:
        _check_kind(os.fstat(fd).st_mode, shown, what, devices)
        os.set_blocking(fd, True)
    except BaseException:
        os.close(fd)
        raise
    return os.fdopen(fd, "rb")


def _check_kind(mode: int, shown: str, what: str, devices: bool) -> None:
    if stat.S_ISREG(mode) or (devices and stat.S_ISCHR(mode)):
        return
    if stat.S_ISDIR(mode):
        raise NotRegularFile(f"{shown} is a directory, not {_a(what)}")
    kind = _KINDS.get(stat.S_IFMT(mode), "special file")
    raise NotRegularFile(
        f"{shown} is a {kind}, not a regular file",
        "opsh reads only regular files here: a device or a pipe may never end or never answer",
    )


def _a(word: str) -> str:
    return f"{'an' if word[:1] in 'aeiou' else 'a'} {word}"


def check_regular(path: Path | str, shown: str | None = None, what: str = "file") -> None:
    """Refuse `path` unless it is a regular file (for libraries that open it by name)."""
    open_regular(path, shown, what).close()


def read_bytes(path: Path | str, shown: str | None = None, what: str = "file", *, limit: int = DEFAULT_LIMIT) -> bytes:
    """The whole of a regular file, refused past `limit` bytes (a /proc file says size 0 and
    may hold more, so the bound is on what is read, not on what stat says)."""
    shown = shown or str(path)
    chunks: list[bytes] = []
    total = 0
    with open_regular(path, shown, what) as handle:
        while chunk := handle.read(min(CHUNK, limit + 1 - total)):
            chunks.append(chunk)
            total += len(chunk)
            if total > limit:
                raise FileTooLarge(f"{shown} is larger than {_size(limit)}", f"a {what} this large is not read whole")
    return b"".join(chunks)


def read_text(
    path: Path | str,
    shown: str | None = None,
    what: str = "file",
    *,
    limit: int = DEFAULT_LIMIT,
    errors: str = "strict",
) -> str:
    """The whole of a regular text file as UTF-8 (see read_bytes for the checks)."""
    shown = shown or str(path)
    data = read_bytes(path, shown, what, limit=limit)
    try:
        return data.decode("utf-8", errors)
    except UnicodeDecodeError:
        raise UsageError(f"{shown} is not a text file (not UTF-8)") from None


def _size(count: int) -> str:
    mib = 1024 * 1024
    return f"{count // mib} MiB" if count >= mib else f"{count} bytes"
