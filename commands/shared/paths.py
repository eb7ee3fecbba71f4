"""Paths as the local file commands take them: as typed, with wildcards expanded by opsh.

files, archive and hashing all name files the same way (relative to the session's directory,
`*`, `?`, `[...]` and `**` expanded here since opsh does no globbing on the line) and word their
status lines the same way; this module is what they share, so none imports another.
"""

from __future__ import annotations

import datetime as dt
import glob
import os
import re
import stat
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from opsh.shell.errors import NotFound, UsageError
from opsh.shell.fileread import check_regular as check_regular  # the bounded readers, for every area's
from opsh.shell.fileread import open_regular as open_regular  # file arguments (they live in the core
from opsh.shell.fileread import read_bytes as read_bytes  # so that history/ can use them too)
from opsh.shell.fileread import read_text as read_text
from opsh.shell.session import Session

_MAGIC = re.compile(r"[*?[]")


@dataclass(frozen=True)
class Target:
    """A path as the user wrote it (for messages and listings) and where it really is."""

    shown: str
    path: Path


def expand_paths(session: Session, patterns: Iterable[str], *, missing_ok: bool = False) -> list[Target]:
    """Existing paths for `patterns`, wildcards expanded relative to the session's directory."""
    found: list[Target] = []
    for pattern in patterns:
        path = session.path(pattern)
        if os.path.lexists(path):
            found.append(Target(pattern, path))
            continue
        if _MAGIC.search(pattern):
            matches = sorted(glob.glob(os.path.expanduser(pattern), root_dir=session.cwd, recursive=True))
            found += [Target(m, session.path(m)) for m in matches]
            if matches or missing_ok:
                continue
            raise NotFound(f"no match: {pattern}")
        if not missing_ok:
            raise NotFound(f"no such file or directory: {pattern}")
    return found


def one_path(session: Session, text: str) -> Target:
    """A single existing path (wildcards allowed if they match exactly one)."""
    found = expand_paths(session, [text])
    if len(found) != 1:
        raise UsageError(f"{text} matches {len(found)} paths", "give exactly one")
    return found[0]


def file_type(mode: int) -> str:
    if stat.S_ISREG(mode):
        return "file"
    if stat.S_ISDIR(mode):
        return "dir"
    if stat.S_ISLNK(mode):
        return "link"
    if stat.S_ISFIFO(mode):
        return "fifo"
    if stat.S_ISSOCK(mode):
        return "socket"
    if stat.S_ISCHR(mode):
        return "char"
    if stat.S_ISBLK(mode):
        return "block"
    return "other"


def timestamp(seconds: float) -> dt.datetime:
    """Local time to the second: what a person compares in a listing."""
    return dt.datetime.fromtimestamp(seconds).replace(microsecond=0)


def is_inside(path: Path, root: Path) -> bool:
    """Whether `path` is `root` or below it, comparing resolved paths."""
    path, root = path.resolve(), root.resolve()
    return path == root or root in path.parents


def plural(count: int, word: str, many: str = "") -> str:
    """`1 file`, `3 files`, `2 directories` (give `many` when adding an s is wrong)."""
    return f"{count} {word if count == 1 else many or word + 's'}"
