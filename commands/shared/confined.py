"""Writing a tree below one directory so that nothing can redirect a write outside it.

Checking where a path lands and then writing by that path leaves a window: another process can
swap a directory for a symlink in between (an archive extracted into a shared directory let
files out this way). So the destination is opened once and every entry is reached from that
descriptor one name at a time, each directory opened with O_NOFOLLOW | O_DIRECTORY: a symlink
on the way is an error, never followed, whenever it appears. Entries are made relative to
their parent's descriptor: files under a temporary name (O_EXCL) and renamed into place, which
replaces a symlink instead of writing through it, and never writes into an existing inode (a
hard link to a file elsewhere stays untouched); modes and times are set on descriptors.
"""

from __future__ import annotations

import errno
import os
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import IO

from opsh.shell.errors import OpshError

_DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
_NEW_FILE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


class SymlinkInTheWay(OpshError):
    """A name on the way to an entry is a symlink (perhaps put there while writing)."""


class Confined:
    """A directory held open; every method takes a path relative to it (`a/b/c`)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.fd = os.open(root, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)  # the user's own path: followed

    def __enter__(self) -> Confined:
        return self

    def __exit__(self, *exc: object) -> None:
        os.close(self.fd)

    def make_dir(self, rel: str) -> None:
        """`mkdir -p`, one name at a time, each one a real directory."""
        os.close(self._walk(_parts(rel), create=True))

    def set_dir(self, rel: str, mode: int | None, mtime: float | None) -> None:
        """Mode and times of a directory made earlier (callers do this last, deepest first)."""
        fd = self._walk(_parts(rel), create=False)
        try:
            if mode is not None:
                os.fchmod(fd, mode)
            if mtime is not None:
                os.utime(fd, (mtime, mtime))
        finally:
            os.close(fd)

    def write_file(self, rel: str, fill: Callable[[IO[bytes]], object], mode: int, mtime: float | None) -> None:
        """A regular file whose bytes `fill` writes; it appears under its name only when
        complete (an error or Ctrl-C in `fill` leaves nothing behind)."""
        with self._parent(rel) as (parent, name):
            temp = _temp_name()
            fd = os.open(temp, _NEW_FILE_FLAGS, 0o600, dir_fd=parent)
            try:
                with os.fdopen(fd, "wb") as out:
                    fill(out)
                    out.flush()
                    os.fchmod(out.fileno(), mode)
                    if mtime is not None:
                        os.utime(out.fileno(), (mtime, mtime))
                os.rename(temp, name, src_dir_fd=parent, dst_dir_fd=parent)
            except BaseException:
                with suppress(FileNotFoundError):
                    os.unlink(temp, dir_fd=parent)
                raise

    def make_symlink(self, rel: str, target: str) -> None:
        """A symlink (replacing what had the name, if anything but a directory)."""
        with self._parent(rel) as (parent, name):
            temp = _temp_name()
            os.symlink(target, temp, dir_fd=parent)
            _rename_or_drop(temp, name, parent)

    def make_hardlink(self, rel: str, existing: str) -> None:
        """A second name for the entry at `existing` (FileNotFoundError if there is none)."""
        with self._parent(existing, create=False) as (source, source_name), self._parent(rel) as (parent, name):
            temp = _temp_name()
            os.link(source_name, temp, src_dir_fd=source, dst_dir_fd=parent, follow_symlinks=False)
            _rename_or_drop(temp, name, parent)

    @contextmanager
    def _parent(self, rel: str, create: bool = True) -> Iterator[tuple[int, str]]:
        """The open directory that holds `rel`, and `rel`'s own name."""
        parts = _parts(rel)
        if not parts:
            raise OpshError(f"{rel!r} names the destination itself, not an entry in it")
        fd = self._walk(parts[:-1], create)
        try:
            yield fd, parts[-1]
        finally:
            os.close(fd)

    def _walk(self, parts: list[str], create: bool) -> int:
        """A new descriptor for the directory at `parts` (the root for no parts)."""
        fd = os.dup(self.fd)
        try:
            for depth, name in enumerate(parts, 1):
                step = self._step(fd, name, "/".join(parts[:depth]), create)
                os.close(fd)
                fd = step
        except BaseException:
            os.close(fd)
            raise
        return fd

    def _step(self, fd: int, name: str, shown: str, create: bool) -> int:
        if create:
            with suppress(FileExistsError):
                os.mkdir(name, 0o777, dir_fd=fd)
        try:
            return os.open(name, _DIR_FLAGS, dir_fd=fd)
        except OSError as exc:
            if exc.errno not in (errno.ELOOP, errno.ENOTDIR):
                raise
            try:
                target = os.readlink(name, dir_fd=fd)
            except OSError:
                raise OpshError(f"{shown!r} exists and is not a directory") from None
            raise SymlinkInTheWay(f"{shown!r} is a symlink (to {target!r}); nothing is written through one") from None


def _parts(rel: str) -> list[str]:
    return [part for part in rel.split("/") if part not in ("", ".")]


def _temp_name() -> str:
    """Short, so that a member whose own name is near the 255-byte limit still gets one."""
    return f".opsh-{secrets.token_hex(6)}.part"


def _rename_or_drop(temp: str, name: str, parent: int) -> None:
    try:
        os.rename(temp, name, src_dir_fd=parent, dst_dir_fd=parent)
    except BaseException:
        with suppress(FileNotFoundError):
            os.unlink(temp, dir_fd=parent)
        raise
